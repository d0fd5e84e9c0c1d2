"""The PyPI clients `smsc` 0.1.1 and `smsc-client` 0.0.1, unchanged but for their host, against
a live server (API + dispatcher, as `tidings serve` runs them)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import smsc.api
from smsc.messages import SMSMessage
from smsc_client import SMSCAPI

from tests.conftest import Server


@pytest.fixture
def smsc_url(live: Server) -> Iterator[str]:
    original = smsc.api.SMSC._url
    smsc.api.SMSC._url = f"{live.url}/sys/"  # its only host setting (a class attribute)
    yield smsc.api.SMSC._url
    smsc.api.SMSC._url = original


def test_smsc_send_cost_and_status(live: Server, smsc_url: str) -> None:
    acc, psw = live.account(balance="100", test_mode=False)
    client = smsc.api.SMSC(login=acc.login, password=psw)
    cost = client.get_cost(to="79161234567", message=SMSMessage(text="Привет, мир"))
    assert (cost.count, cost.cost) == (1, 1.80)
    sent = client.send(to=["79161234567", "79161234568"], message=SMSMessage(text="Привет"))
    assert sent.error is None
    assert (sent.count, sent.cost) == (2, 3.60)
    deadline = time.monotonic() + 15
    while True:
        statuses = client.get_status(to="79161234567", msg_id=str(sent.message_id))
        if statuses[0].status.status_id == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(statuses) == 1
    assert statuses[0].status.status_id == 1
    assert statuses[0].status.name == "Доставлено"
    assert statuses[0].data["phone"] == "79161234567"
    assert statuses[0].data["last_date"] is not None


def test_smsc_reports_api_errors(live: Server, smsc_url: str) -> None:
    client = smsc.api.SMSC(login="nobody", password="wrong")
    answer = client.send(to="79161234567", message=SMSMessage(text="x"))
    assert answer.error is not None and answer.error.code == 2


def test_smsc_client_send_with_uuid_id(live: Server) -> None:
    acc, psw = live.account()
    api = SMSCAPI(acc.login, psw)
    api._domain = f"{live.url}/"  # its only host setting (an instance attribute)
    message_id = uuid.uuid4()
    answer = api.default.send(
        phones="79161234567", mes="Привет из smsc-client", id=message_id, sender="Shop"
    )
    counted, echoed = answer.OK, answer.ID
    assert counted == "1 SMS"
    assert echoed == str(message_id)
    with live.store.db.tx(write=False) as tx:
        row = tx.one("SELECT text, client_id FROM messages WHERE account_id = ?", (acc.id,))
    # It sends UTF-8 without saying so: the text must arrive intact.
    assert row == ("Привет из smsc-client", str(message_id))
