"""The words typer prints around ours — the help panels' titles, "[required]", "[default:
…]", the --help option's help, the hint and title of an error — in the command line's
language.

Typer takes them from the standard gettext (`from gettext import gettext as _`, and the
panels' titles as module constants of typer.rich_utils), which reads compiled catalogues
from the system's locale directories: Tidings has none there. So at start its `_` is
pointed at our catalogue and its constants are set from it. The msgids below are typer's
own, marked here so that the catalogue check holds them too; one typer renames shows in
English, nothing breaks. What typer writes as plain strings stays English (see below; the
completion options' help texts too).
"""

from __future__ import annotations

import importlib
from typing import Any

from tidings.cli.i18n import N_, code
from tidings.i18n import translations

# What typer's rich help and errors show (typer/rich_utils.py, its constants).
TYPER_CONSTANTS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "DEFAULT_STRING": N_("[default: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "DEPRECATED_STRING": N_("(deprecated) "),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
}
# What typer's command parsing says through the standard gettext (typer/core.py); the
# rest of its words ("Usage:", "Missing argument …") are plain strings in the click it
# carries (typer/_click), not translatable, and stay English.
TYPER_MESSAGES = (
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("Aborted!"),
)
# The modules whose `_` is the standard gettext's.
GETTEXT_USERS = ("typer.core",)
# The --help option's own help, a plain string in typer/_click/decorators.py: set on the
# option when a command makes it (Command.get_help_option, its one maker).
HELP_OPTION = N_("Show this message and exit.")


def _gettext(message: str) -> str:
    return translations(code()).gettext(message)


def translate_the_frame() -> None:
    """Point typer's texts at the catalogue, in this process's language."""
    for name in GETTEXT_USERS:
        module = importlib.import_module(name)
        names = vars(module)
        if "_" in names:
            names["_"] = _gettext
    rich_utils = importlib.import_module("typer.rich_utils")
    for constant, message in TYPER_CONSTANTS.items():
        setattr(rich_utils, constant, _gettext(message))
    _translate_the_help_option()


def _translate_the_help_option() -> None:
    """The help option's text, where typer makes the option (a private module: should a
    typer release move it, the text stays English and tests/integration/test_cli_language.py
    says so)."""
    try:
        command = importlib.import_module("typer._click.core").Command
    except (ImportError, AttributeError):
        return
    make = getattr(command, "get_help_option", None)
    if make is None or getattr(make, "translated", False):
        return

    def get_help_option(self: Any, ctx: Any) -> Any:
        option = make(self, ctx)
        if option is not None:
            option.help = _gettext(HELP_OPTION)
        return option

    get_help_option.translated = True  # type: ignore[attr-defined]
    command.get_help_option = get_help_option
