"""/sys/callback.php — the account's status callback URL, set by the API. [choice] SMS
Center has no call for this (its handler URL is set in the cabinet; smsc-api.md §5.8), so
this script is Tidings' own: `get=1`, `set=1&url=…` (answers the new signing secret, shown
only here), `del=1` (callbacks off). The URL rules are the cabinet's and the command line's
(domain/callback_urls.py, through the profile service). With `set=1`, SMS Center's flag
`fl[11]` (1/0) switches forwarding incoming SMS to the URL on or off; absent, it stays."""

from __future__ import annotations

from tidings.api.context import Call
from tidings.errors import InvalidParameter

ACTIONS = ("get", "set", "del")
OFF = "OFF"  # [choice] fmt 0/1 with no URL set: never an empty body


def handle_callback(call: Call) -> str:
    chosen = [a for a in ACTIONS if call.params.flag(a)]
    if len(chosen) != 1:
        raise InvalidParameter("exactly one of get, set, del must be 1")
    profile = call.services.profile
    if chosen[0] == "get":
        url = profile.callback_url(call.account)
        if call.fmt in (0, 1):
            return url or OFF
        return call.renderer.result([("url", url)], url)
    if chosen[0] == "del":
        profile.set_callback(call.account, "")
        return call.renderer.ok()
    url = call.params.text("url").strip()
    if not url:
        raise InvalidParameter("url: required (del=1 switches callbacks off)")
    forward = _flag(call.params.text("fl[11]"))
    secret = profile.set_callback(call.account, url)
    if forward is not None:
        profile.set_forward_inbound(call.account, forward)
    return call.renderer.result([("secret", secret)], f"OK, SECRET - {secret}")


def _flag(value: str) -> bool | None:
    text = value.strip()
    if not text:
        return None
    if text not in ("0", "1"):
        raise InvalidParameter("fl[11]: 0 or 1")
    return text == "1"
