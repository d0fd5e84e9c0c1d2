"""Domain refusals in the visit's language.

The domain describes a refusal in English, in the API's words ("phones: required"): API
clients get exactly that. The cabinet shows the refusals a person meets in its forms in the
visit's language, recognised by pattern; any other is shown as the domain said it. In
English the text is the domain's own, word for word (the parameter names too, which the
form's field marking reads); in another language the field is named as its form labels it.
"""

from __future__ import annotations

import re

from tidings.errors import DomainError
from tidings.web.i18n import N_, SOURCE_LANGUAGE, Language

# The API parameters the cabinet's forms send, as those forms label them.
FIELD_LABELS = {
    "name": N_("Name"),
    "phones": N_("Recipients"),
    "mes": N_("Message"),
    "msg": N_("Text"),
    "time": N_("Start"),
    "rptn": N_("Runs in all"),
    "period": N_("Spread over"),
    "freq": N_("Portion every"),
    "valid": N_("Validity"),
    "sender": N_("Sender"),
    "phone": N_("Phone"),
    "mail": N_("E-mail"),
    "email": N_("E-mail"),
    "num": N_("Number"),
    "amount": N_("Amount"),
    "balance": N_("Opening balance"),
    "memo": N_("Memo"),
    "password": N_("Password"),
    "login": N_("Login"),
    "price": N_("Price"),
    "default_price": N_("SMS part, any country"),
    "email_price": N_("E-mail"),
    "country": N_("Country"),
    "callback URL": N_("Callback URL"),
    "stop keywords": N_("Stop keywords"),
    "stop reply": N_("Confirmation text"),
    "inbound number": N_("Number"),
    "subj": N_("Subject"),
    # The history's search form (its labels "From"/"To" need the dates to read right).
    "start": N_("Start date"),
    "end": N_("End date"),
    "status": N_("Status"),
}
_FIELD = r"(?P<field>[a-z_]+(?: [a-zA-Z]+)?)"

# (the domain's text as a pattern, its English as a catalogue entry with the same names).
KNOWN: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (rf"{_FIELD}: required", N_("%(field)s: required")),
        (rf"{_FIELD}: at most (?P<n>\d+) characters", N_("%(field)s: at most %(n)s characters")),
        (rf"{_FIELD}: at most (?P<n>\d+) recipients", N_("%(field)s: at most %(n)s recipients")),
        (rf"{_FIELD}: no valid recipient", N_("%(field)s: no valid recipient")),
        (
            rf"{_FIELD}: not a phone number: (?P<item>.*)",
            N_("%(field)s: not a phone number: %(item)s"),
        ),
        (
            rf"{_FIELD}: not an e-mail address: (?P<item>.*)",
            N_("%(field)s: not an e-mail address: %(item)s"),
        ),
        (rf"{_FIELD}: an e-mail address", N_("%(field)s: an e-mail address")),
        (
            rf"{_FIELD}: up to 11 Latin letters and digits, or up to 15 digits",
            N_("%(field)s: up to 11 Latin letters and digits, or up to 15 digits"),
        ),
        (rf"{_FIELD}: not an amount", N_("%(field)s: not an amount")),
        (rf"{_FIELD}: a positive amount", N_("%(field)s: a positive amount")),
        (rf"{_FIELD}: an integer 1\.\.(?P<n>\d+)", N_("%(field)s: an integer 1..%(n)s")),
        (r"password: at least (?P<n>\d+) characters", N_("password: at least %(n)s characters")),
        (
            r"current password: not the account's password",
            N_("current password: not the account's password"),
        ),
        (r"new password: the two entries differ", N_("new password: the two entries differ")),
        (
            r"not an IP address or network: (?P<value>.*)",
            N_("not an IP address or network: %(value)s"),
        ),
        (r"(?P<cidr>\S+) is already allowed", N_("%(cidr)s is already allowed")),
        (
            r"callback URL: an http:// or https:// address",
            N_("callback URL: an http:// or https:// address"),
        ),
        (
            r"callback URL: (?P<host>\S+) is not allowed \((?P<reason>.*)\)",
            N_("callback URL: %(host)s is not allowed (%(reason)s)"),
        ),
        (
            r"account: an operator cannot disable its own account",
            N_("account: an operator cannot disable its own account"),
        ),
        (
            r"operator: an operator cannot take its own flag away",
            N_("operator: an operator cannot take its own flag away"),
        ),
        (r"no account '(?P<login>.*)'", N_("no account '%(login)s'")),
        (rf"{_FIELD}: required for an e-mail", N_("%(field)s: required for an e-mail")),
        (
            rf"{_FIELD}: required for an e-mail mailing list",
            N_("%(field)s: required for an e-mail mailing list"),
        ),
        (rf"{_FIELD}: a date YYYY-MM-DD", N_("%(field)s: a date YYYY-MM-DD")),
        (r"status: one of the listed statuses", N_("status: one of the listed statuses")),
        # send.php's refusals the send page meets, in smsc.ru's words (the API's answers).
        (r"invalid number", N_("invalid number")),
        (r"can't to deliver", N_("can't to deliver")),
        (r"message is denied", N_("message is denied")),
        (r"no money", N_("no money")),
        (r"invalid time format", N_("invalid time format")),
        (r"invalid date format", N_("invalid date format")),
    )
)


def refusal_text(lang: Language, error: DomainError) -> str:
    """What the domain said, in the visit's language when it is a refusal we know."""
    description = error.description
    for pattern, text in KNOWN:
        match = pattern.fullmatch(description)
        if match is None:
            continue
        values = match.groupdict()
        if "field" in values and lang.code != SOURCE_LANGUAGE:
            label = FIELD_LABELS.get(values["field"])
            values["field"] = lang.gettext(label) if label else values["field"]
        return lang.gettext(text, **values)
    return description
