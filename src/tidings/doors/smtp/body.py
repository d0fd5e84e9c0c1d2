"""A mail to the SMTP door as the send.php request it amounts to (smsc-api.md §5.9).

The body is `login:psw:id:time,tz:translit,format,sender,test:phones:mes`, or with an empty
`phones` field `…:test::list` (send.php's `list`: a `phone:text` per line). Decisions:

* The text is the mail's first text/plain part (else its first text part), decoded by the
  charset its Content-Type names, koi8-r when it names none. `[text]…[/text]` in it: only
  what is between is the body (for mailers that cannot send plain text).
* Fields are split at the first six colons; the message keeps any colon of its own. So a
  field before it cannot hold one: [choice] `time` takes the forms without a colon
  (`DDMMYYhhmm`, `0<unix time>`, `+<minutes>`, `h1-h2`), and a password with a colon needs
  the API key form (empty login).
* An empty `login` makes `psw` the API key. `format` is the index of the official
  libraries (0 sms, 1 flash, 2 push, 3 hlr, 4 bin, 5 bin-hex, 6 ping, 7 mms, 8 mail,
  9 call, 10 viber, 11 soc) and becomes send.php's flag of that type; send.php refuses the
  types it does not send, as it would over HTTP. [choice] `test=1` prices the message
  without sending it (send.php `cost=1`).
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage, Message

from tidings.errors import InvalidParameter

DEFAULT_CHARSET = "koi8-r"
FORMAT_FLAGS: dict[str, tuple[str, str]] = {
    "1": ("flash", "1"),
    "2": ("push", "1"),
    "3": ("hlr", "1"),
    "4": ("bin", "1"),
    "5": ("bin", "2"),
    "6": ("ping", "1"),
    "7": ("mms", "1"),
    "8": ("mail", "1"),
    "9": ("call", "1"),
    "10": ("viber", "1"),
    "11": ("soc", "1"),
}


@dataclass(frozen=True)
class MailRequest:
    login: str
    psw: str
    # send.php's parameters but the credentials.
    values: dict[str, str]
    # `test=1`: priced, not sent.
    test: bool


def mail_text(raw: bytes) -> str:
    """The body text of a mail, decoded by its charset (koi8-r when it names none)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = _text_part(message)
    if part is None:
        raise InvalidParameter("the mail has no text part")
    payload = part.get_payload(decode=True)
    octets = payload if isinstance(payload, bytes) else b""
    charset = part.get_content_charset() or DEFAULT_CHARSET
    try:
        text = octets.decode(charset)
    except (LookupError, UnicodeDecodeError):
        raise InvalidParameter(f"the mail's text is not valid {charset}") from None
    start, end = text.find("[text]"), text.find("[/text]")
    if start >= 0:
        text = text[start + len("[text]") : end if end > start else None]
    return text.strip("\r\n")


def _text_part(message: Message) -> Message | None:
    if isinstance(message, EmailMessage):
        found = message.get_body(preferencelist=("plain", "html"))
        if found is not None:
            return found
    for part in message.walk():
        if part.get_content_maintype() == "text":
            return part
    return None


def parse_request(text: str) -> MailRequest:
    fields = text.split(":", 6)
    if len(fields) < 7:
        raise InvalidParameter(
            "the body must be login:psw:id:time,tz:translit,format,sender,test:phones:mes"
        )
    login, psw, send_id, when, options, phones, message = fields
    time, _, tz = when.partition(",")
    translit, fmt, sender, test = [*options.split(",", 3), "", "", ""][:4]
    values = {
        "id": send_id.strip(),
        "time": time.strip(),
        "tz": tz.strip(),
        "translit": translit.strip(),
        "sender": sender.strip(),
    }
    fmt = fmt.strip()
    if fmt not in ("", "0"):
        if fmt not in FORMAT_FLAGS:
            raise InvalidParameter(f"format {fmt}: 0 to 11")
        name, value = FORMAT_FLAGS[fmt]
        values[name] = value
    if phones.strip():
        values["phones"] = phones.strip()
        values["mes"] = message
    else:
        values["list"] = message
    values = {k: v for k, v in values.items() if v}
    return MailRequest(login.strip(), psw.strip(), values, test.strip() == "1")
