"""Which upstream a message goes through: a pure rule over the configured upstreams."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

VIRTUAL = "virtual"


@dataclass(frozen=True)
class Routes:
    """SMPP upstreams with their destination prefixes (empty = any), SMTP upstreams by name.

    Test-mode accounts always use the virtual upstream, and so does every account while no
    upstream of the message's kind is configured. A number no prefix matches goes to the first
    SMPP upstream without prefixes, or else to the first one.
    """

    smpp: Sequence[tuple[str, Sequence[str]]] = ()
    smtp: Sequence[str] = ()

    def uniform(self, *, mail: bool, test_mode: bool) -> str | None:
        """The channel every recipient of such a list takes, or None if it depends on the
        number (several SMPP upstreams with prefixes)."""
        if test_mode:
            return VIRTUAL
        if mail:
            return self.smtp[0] if self.smtp else VIRTUAL
        if not self.smpp:
            return VIRTUAL
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
