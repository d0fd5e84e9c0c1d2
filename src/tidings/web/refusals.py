"""Domain refusals in the visit's language.

The domain describes a refusal in English, in the API's words ("phones: required"): API
clients get exactly that. It raises each one as a constant template and the values that fill
it (errors.DomainError: `InvalidParameter("%(field)s: required", field="phones")`), and the
cabinet says it in the visit's language by looking the template up in its catalogue — every
template the domain, the store and the cabinet raise is listed in REFUSALS below, so it is
extracted into messages.po and translated (tests/unit/test_refusals.py walks the code for
them). In English the text is the domain's own, word for word; in another language the field
is named as its form labels it, and the English words the domain fills in (VALUE_TEXTS) are
translated too.
"""

from __future__ import annotations

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
    "grp": N_("Groups"),
    "search": N_("Search by phone, e-mail or name"),
    # The history's search form (its labels "From"/"To" need the dates to read right).
    "start": N_("Start date"),
    "end": N_("End date"),
    "status": N_("Status"),
}
# English words the domain fills into a refusal's template, said in the visit's language.
VALUE_TEXTS = {
    "an e-mail": N_("an e-mail"),
    "an e-mail mailing list": N_("an e-mail mailing list"),
    "loopback": N_("loopback"),
    "link-local": N_("link-local"),
    "unspecified": N_("unspecified"),
    "multicast": N_("multicast"),
    "private": N_("private"),
    "reserved": N_("reserved"),
    "not public": N_("not public"),
}

# Every refusal template of the domain, the store and the cabinet (errors.DomainError), and
# of the rows a contacts import leaves out (contact_import.RejectedRow), marked for the
# catalogue. A new refusal goes here (tests/unit/test_refusals.py says which).
REFUSALS: tuple[str, ...] = (
    N_("e-mail %(email)s belongs to another contact"),
    N_("name longer than %(n)s characters"),
    N_("no phone"),
    N_("not a group number: %(item)s"),
    N_("not a phone number: %(item)s"),
    N_("not an e-mail address: %(item)s"),
    N_("%(cidr)s is already allowed"),
    N_("%(field)s: %(kind)s cannot be sent here, format not supported"),
    N_("%(field)s: %(why)s"),
    N_("%(field)s: 3 to %(n)s digits"),
    N_("%(field)s: Telegram chats (#ID) cannot be sent to here, format not supported"),
    N_("%(field)s: __PING__ only as the text of a ping message"),
    N_("%(field)s: a date YYYY-MM-DD"),
    N_("%(field)s: a number"),
    N_("%(field)s: a positive amount"),
    N_("%(field)s: a record id"),
    N_("%(field)s: an e-mail address"),
    N_("%(field)s: an integer 1..%(n)s"),
    N_("%(field)s: at most %(n)s"),
    N_("%(field)s: at most %(n)s characters"),
    N_("%(field)s: at most %(n)s characters each"),
    N_("%(field)s: at most %(n)s recipients"),
    N_("%(field)s: bin=2 needs an even number of hex digits"),
    N_("%(field)s: must not be negative"),
    N_("%(field)s: must not contain a NUL character"),
    N_("%(field)s: no valid recipient"),
    N_("%(field)s: not a phone number: %(item)s"),
    N_("%(field)s: not an amount"),
    N_("%(field)s: not an e-mail address: %(item)s"),
    N_("%(field)s: one address only"),
    N_("%(field)s: one contact only"),
    N_("%(field)s: one number only"),
    N_("%(field)s: required"),
    N_("%(field)s: required for %(what)s"),
    N_("%(field)s: up to 11 Latin letters and digits, or up to 15 digits"),
    N_("%(number)s is assigned to another account"),
    N_("API key not found"),
    N_("SMPP password: 1 to 8 printable ASCII characters, no spaces"),
    N_("account %(login)r exists"),
    N_("account is blocked"),
    N_("account not found"),
    N_("account: an operator cannot disable its own account"),
    N_("address not found"),
    N_("after_id: a record id"),
    N_("at least one of name, msg, format, sender, fl[1] is required"),
    N_("authorise error"),
    N_("bin must be 0, 1 or 2"),
    N_("callback URL: %(host)s is not a host name"),
    N_("callback URL: %(host)s is not allowed (%(address)s is a %(kind)s address)"),
    N_("callback URL: %(host)s is not an address"),
    N_("callback URL: an http:// or https:// address"),
    N_("callback URL: no spaces or backslashes"),
    N_("callback URL: no user name or password in it"),
    N_("callback URL: the port is not a number 1…65535"),
    N_("can't to deliver"),
    N_("cnt: an integer 1..%(n)s"),
    N_("contact already exists: %(contact)s"),
    N_("contact not found"),
    N_("country: a two-letter code such as RU"),
    N_("current password: not the account's password"),
    N_("direction: credit or debit"),
    N_("exactly one of id, phone, mail must name the contact"),
    N_("fl[1] must be 0 or 1"),
    N_("format: %(kind)s messages cannot be sent here, format not supported"),
    N_("format: one of sms, flash, bin, mail (or empty: any)"),
    N_("freq must be 1-1440 minutes"),
    N_("group not found"),
    N_("group number is taken"),
    N_("grp: at most %(n)s groups"),
    N_("hour: 1..%(n)s"),
    N_("id: an integer 1..%(n)s"),
    N_("id: up to 40 characters A-Z a-z 0-9 . _ -"),
    N_("import not found"),
    N_("invalid date format"),
    N_("invalid number"),
    N_("invalid time format"),
    N_("invalid tz"),
    N_("ip %(ip)s is not blocked"),
    N_("ip is blocked"),
    N_("ip: not an IP address: %(ip)r"),
    N_("language must be one of %(languages)s"),
    N_("list: each line must be recipient:text"),
    N_("login must be 1-64 characters: Latin letters, digits, _ . @ -"),
    N_("mailing list cannot be cancelled"),
    N_("mailing list id is taken"),
    N_("mailing list not found"),
    N_("maxsms: a number of parts"),
    N_("mes: cannot be combined with list"),
    N_("message cannot be deleted"),
    N_("message is denied"),
    N_("move_group: 1 (move), 2 (add) or 3 (remove)"),
    N_("new password: the two entries differ"),
    N_("no account %(login)r"),
    N_("no free group number"),
    N_("no free mailing list id"),
    N_("no group %(numbers)s"),
    N_("no money"),
    N_("no such inbound number"),
    N_("not an IP address or network: %(value)r"),
    N_("not an amount: %(amount)r"),
    N_("not in the blacklist"),
    N_("nothing to change: give new_phone, new_mail or name"),
    N_("on: 0 or 1"),
    N_("only one message format flag may be given"),
    N_("operator: an operator cannot take its own flag away"),
    N_("page not found"),
    N_("password must not be empty"),
    N_("password: at least %(n)s characters"),
    N_("period and freq must be given together"),
    N_("period must be 0.1-720 hours"),
    N_("phone, mail: one of each when both are given"),
    N_("phone: required (or mail)"),
    N_("phones: cannot be combined with list"),
    N_("rpt must be 0..7"),
    N_("rptn must be 0..%(n)s"),
    N_("sender already exists"),
    N_("sender not found"),
    N_("sender: %(sender)r is not an approved sender"),
    N_("status: one of the listed statuses"),
    N_("tariff %(name)r exists"),
    N_("tariff not found"),
    N_("tariff: a tariff id"),
    N_("template not found"),
    N_("timezone: no time zone %(name)r"),
    N_("total must not be negative"),
    N_("tpl: a template id"),
    N_("tpl: an e-mail template needs mail=1"),
    N_("tpl: cannot be combined with mes or list"),
    N_("tpl: template not found"),
    N_("tpl: the template is for %(kind)s messages"),
    N_("translit must be 0, 1 or 2"),
    N_("type: 0 (all), 1 (mailing lists) or 2 (single messages)"),
    N_("type: 0 (phones) or 1 (e-mail)"),
    N_("valid must be 1-24 hours or hh:mm 00:01-24:00"),
)


def refusal_text(lang: Language, error: DomainError) -> str:
    """What the domain said, in the visit's language."""
    if lang.code == SOURCE_LANGUAGE:
        return error.description
    values = {key: _said(lang, key, value) for key, value in error.values.items()}
    text = lang.translations.gettext(error.template)
    return text % values if values else text


def _said(lang: Language, key: str, value: object) -> object:
    """A value of the template in the visit's language: a field as its form labels it, a
    word of VALUE_TEXTS translated, anything else (a number, what the visitor typed) as is."""
    if not isinstance(value, str):
        return value
    label = FIELD_LABELS.get(value) if key == "field" else VALUE_TEXTS.get(value)
    return lang.gettext(label) if label else value


def refused_field(error: DomainError) -> str:
    """The parameter a refusal is about: its `field` value, else the name its description
    starts with ("mes: required"), for the form to mark the field."""
    field = error.values.get("field")
    if isinstance(field, str):
        return field
    return error.description.split(":", 1)[0].strip()
