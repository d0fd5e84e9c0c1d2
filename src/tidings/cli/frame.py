"""The words typer prints around ours — the help panels' titles, "[required]", "[default:
…]", the hint and title of an error — in the command line's language.

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
# rest of its words ("Usage:", "Show this message and exit.", "Missing argument …") are
# plain strings in the click it carries (typer/_click), not translatable, and stay English.
TYPER_MESSAGES = (
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("Aborted!"),
)
# The modules whose `_` is the standard gettext's.
GETTEXT_USERS = ("typer.core",)


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
