"""schemathesis against /openapi.yaml on a running server: every generated request (GET, urlencoded
and multipart POST, each script, each fmt) made as a real account gets an answer the spec
declares — no 5xx, a declared status and media type, JSON that matches its schema, XML that
parses. Also: the spec and the docs page are served."""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, DeserializationContext, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import CLOCK_START, Server, fresh_database_url, served
from tidings.domain.clock import FakeClock

MEDIA_BY_FMT = {0: "text/plain", 1: "text/plain", 2: "text/xml", 3: "application/json"}


@schemathesis.deserializer("text/xml")
def _xml(_ctx: DeserializationContext, response: Response) -> str:
    """fmt 2 must be well-formed XML (a parse error fails response_schema_conformance); the
    spec describes it as a string."""
    text = response.content.decode(response.encoding or "utf-8")
    ET.fromstring(text)
    return text


@schemathesis.deserializer("text/plain")
def _text(_ctx: DeserializationContext, response: Response) -> str:
    return response.content.decode(response.encoding or "utf-8")


@schemathesis.check
def answers_in_the_requested_fmt(ctx: CheckContext, response: Response, case: Case) -> bool:
    """The media type follows the effective `fmt` (the body wins over the query)."""
    values: dict[str, Any] = {**(case.query or {})}
    if isinstance(case.body, dict):
        values.update(case.body)
    # /rest/ answers JSON whatever `fmt` says.
    fmt = "3" if case.path.startswith("/rest/") else str(values.get("fmt", "0"))
    media = response.headers.get("content-type", [""])[0].split(";")[0].strip()
    assert media == MEDIA_BY_FMT.get(int(fmt) if fmt.isdigit() else 0, "text/plain"), (fmt, media)
    assert response.content, "empty body"
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    answers_in_the_requested_fmt,
]
CREDENTIALS = ("login", "psw", "apikey")


@pytest.fixture(scope="module")
def api(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own with the abuse guard out of the way (thousands of failing requests
    from one IP would otherwise all end as error 4)."""
    url = fresh_database_url(backend, tmp_path_factory.mktemp("openapi"))
    guards = {"auth_failures_max": 10**9, "error_streak_max": 10**9, "balance_requests_max": 10**9}
    with served(url, FakeClock(CLOCK_START), guards=guards) as srv:
        yield srv


def test_the_spec_is_served_and_valid_openapi(api: Server) -> None:
    response = api.client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    document = yaml.safe_load(response.text)
    assert document["openapi"].startswith("3.")
    scripts = {"jobs", "send", "status", "balance", "phones", "senders", "get", "templates"}
    scripts |= {"receive_phones"}
    scripts |= {"callback"}  # Tidings' own
    assert set(document["paths"]) == {f"/sys/{s}.php" for s in scripts} | {"/rest/send/"}
    for path, item in document["paths"].items():
        if path.startswith("/rest/"):
            # JSON only, posted (smsc-api.md §1.1).
            assert set(item) == {"post"}
            assert set(item["post"]["requestBody"]["content"]) == {"application/json"}
            continue
        assert set(item) == {"get", "post"}
        assert set(item["post"]["requestBody"]) == {"$ref"}


def test_the_docs_page_renders_every_script_without_outside_resources(api: Server) -> None:
    response = api.client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for script in ("jobs", "send", "status", "balance", "phones", "senders", "get", "templates"):
        assert f"<code>/sys/{script}.php</code>" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "error_code" in page and "get_all" in page
    # The descriptions' Markdown is rendered, not shown raw.
    assert "<code>application/x-www-form-urlencoded</code>" in page
    assert "`" not in page, "a Markdown code span was left as it was written"


def test_every_generated_request_gets_a_declared_answer(api: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.yaml")
    account, password = api.account(balance="1000")
    session_ip = f"2001:db8::{secrets.token_hex(2)}"

    @given(case=schema.as_strategy(GenerationMode.POSITIVE), as_account=st.booleans())
    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case, as_account: bool) -> None:
        if as_account:
            # A real account, so the requests reach the scripts (not only error 2).
            for container in (case.query, case.body):
                if isinstance(container, dict):
                    for name in CREDENTIALS:
                        container.pop(name, None)
            case.query = {**(case.query or {}), "login": account.login, "psw": password}
        response = case.call(base_url=api.url, headers={"X-Forwarded-For": session_ip})
        case.validate_response(response, checks=CHECKS)

    run()


def test_a_known_answer_of_each_shape_matches_the_spec(api: Server) -> None:
    """The success shapes the random requests rarely reach, checked by hand against the spec."""
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.yaml")
    account, password = api.account(balance="1000")
    auth = {"login": account.login, "psw": password, "fmt": "3"}
    calls: list[tuple[str, dict[str, str]]] = [
        (
            "jobs",
            {"add": "1", "name": "Вести", "phones": "79161234567", "mes": "Привет", "id": "7"},
        ),
        ("jobs", {"add": "1", "name": "Cost", "phones": "79161234568", "mes": "Hi", "cost": "1"}),
        ("jobs", {"get": "1", "id": "7"}),
        ("jobs", {"get_all": "1"}),
        ("jobs", {"cancel": "1", "id": "7"}),
        ("send", {"phones": "79161234567", "mes": "Hi", "cost": "3", "id": "a-1"}),
        ("send", {"phones": "79161234567", "mes": "Hi there", "cost": "1"}),
        ("status", {"id": "a-1", "phone": "79161234567", "all": "2"}),
        ("status", {"id": "a-1,", "phone": "79161234567,", "all": "1"}),
        ("balance", {"cur": "1"}),
        ("phones", {"add_group": "1", "name": "VIP"}),
        ("phones", {"add": "1", "phone": "79161234567,79161234569", "name": "Ann"}),
        ("phones", {"get": "1"}),
        ("phones", {"get_group": "1"}),
        ("phones", {"add_black": "1", "phone": "79990000000"}),
        ("phones", {"get_black": "1"}),
        ("senders", {"add": "1", "sender": "Shop"}),
        ("senders", {"get": "1", "all": "1"}),
        ("get", {"get_messages": "1"}),
        ("get", {"get_stat": "1"}),
    ]
    for script, params in calls:
        operation = schema[f"/sys/{script}.php"]["GET"]
        case = operation.Case(query={**auth, **params})
        response = case.call(base_url=api.url)
        body = json.loads(response.text)
        assert not (isinstance(body, dict) and "error" in body), (script, params, body)
        case.validate_response(response, checks=CHECKS)
    # And the error of every script, in every fmt.
    for script in ("jobs", "send", "status", "balance", "phones", "senders", "get", "templates"):
        for fmt in ("0", "1", "2", "3"):
            operation = schema[f"/sys/{script}.php"]["GET"]
            case = operation.Case(query={"login": "nobody", "psw": "x", "fmt": fmt})
            response = case.call(base_url=api.url, headers={"X-Forwarded-For": "2001:db8::e"})
            case.validate_response(response, checks=CHECKS)


def test_an_unknown_script_is_an_api_error_not_a_404(api: Server) -> None:
    """The official JavaScript library and node-smsc JSON.parse every answer (more in
    tests/integration/test_not_provided.py)."""
    account, password = api.account()
    response = httpx.get(
        f"{api.url}/sys/nope.php", params={"login": account.login, "psw": password, "fmt": 3}
    )
    assert response.status_code == 200
    assert response.json() == {"error": "nope.php is not provided", "error_code": 1}
