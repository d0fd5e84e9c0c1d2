"""Which upstream a message goes through: a pure rule over the configured upstreams."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

VIRTUAL = "virtual"
# The channel of a live account's message that no configured upstream takes. No lane serves
# it, so it waits uncharged; `reroute` moves it once an upstream of its kind is configured.
UNROUTED = "unrouted"


@dataclass(frozen=True)
class Routes:
    """SMPP upstreams with their destination prefixes (empty = any), SMTP upstreams by name.

    Test-mode accounts always use the virtual upstream. A live account's message with no
    upstream of its kind configured is UNROUTED (it waits, uncharged) — unless the operator
    lets the virtual upstream serve live accounts too (`virtual_for_live`, a staging or
    benchmark setup). A number no prefix matches goes to the first SMPP upstream without
    prefixes, or else to the first one.
    """

    smpp: Sequence[tuple[str, Sequence[str]]] = ()
    smtp: Sequence[str] = ()
    virtual_for_live: bool = False

    def uniform(self, *, mail: bool, test_mode: bool) -> str | None:
        """The channel every recipient of such a list takes, or None if it depends on the
        number (several SMPP upstreams with prefixes)."""
        if test_mode:
            return VIRTUAL
        fallback = VIRTUAL if self.virtual_for_live else UNROUTED
        if mail:
            return self.smtp[0] if self.smtp else fallback
        if not self.smpp:
            return fallback
        if len(self.smpp) == 1 or not any(prefixes for _name, prefixes in self.smpp):
            return self.smpp[0][0]
        return None

    def channel_for(self, address: str, *, mail: bool, test_mode: bool) -> str:
        fixed = self.uniform(mail=mail, test_mode=test_mode)
        if fixed is not None:
            return fixed
        best, best_len = "", -1
        for name, prefixes in self.smpp:
            for prefix in prefixes:
                if address.startswith(prefix) and len(prefix) > best_len:
                    best, best_len = name, len(prefix)
        if best:
            return best
        for name, prefixes in self.smpp:
            if not prefixes:
                return name
        return self.smpp[0][0]

    def takes(self, *, mail: bool) -> bool:
        """Whether a live account's message of this kind has an upstream to take it."""
        return self.virtual_for_live or bool(self.smtp if mail else self.smpp)
