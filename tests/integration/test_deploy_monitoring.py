"""The monitoring files in deploy/: the Grafana dashboard and the Prometheus alert rules ask
only for series a running Tidings exports (names and labels), the dashboard shows every one of
them, and Prometheus' own `promtool` accepts the rules, runs their unit tests and parses every
dashboard query. So neither file can drift from /metrics unnoticed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import CLOCK_START, fresh_database_url, served
from tidings.domain.clock import FakeClock
from tidings.domain.operations import LiveFigures, TotalFigures, UpstreamState
from tidings.ops import metrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "tidings.json"
RULES = ROOT / "deploy" / "prometheus" / "tidings-rules.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "tidings-rules.test.yml"
# Labels Prometheus adds to every scraped series, and the one series of its own we use.
TARGET_LABELS = {"job", "instance"}
PROMETHEUS_SERIES = {"up": set[str]()}
# What the suffixes of each kind of family are called in PromQL.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
}
GROUPING = re.compile(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)")
SELECTOR = re.compile(r"\b([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}")
MATCHER = re.compile(r"(\w+)\s*(?:=~|!~|!=|=)")
NAME = re.compile(r"\btidings_\w+")

Series = dict[str, set[str]]  # sample name → its label names


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        reason = "promtool is missing (apt-get install prometheus: Debian's package has it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _families(text: str) -> dict[str, tuple[str, set[str]]]:
    """Family name → (type, label names seen on its samples)."""
    found: dict[str, tuple[str, set[str]]] = {}
    for family in text_string_to_metric_families(text):
        labels = {name for s in family.samples for name in s.labels} - {"le"}
        found[family.name] = (family.type, labels)
    return found


def _declared_labels() -> dict[str, set[str]]:
    """Label names of the series the processes count (tidings.ops.metrics), and of the series
    read from the store, rendered with one figure of each kind: a scrape of an idle server
    has no samples to show them on."""
    # prometheus-client keeps a metric's name and label names in attributes of its own.
    labels = {
        m._name: set(m._labelnames)
        for m in vars(metrics).values()
        if isinstance(m, MetricWrapperBase)
    }
    now = datetime.fromtimestamp(1_700_000_000, UTC)
    state = UpstreamState("main", "w1", "smpp", True, 1, 1, 0, 5, 1.0, 1, "", None, now)
    store = metrics.StoreCollector(
        lambda: LiveFigures({-1: 1}, {"main": 1}, 100),
        lambda: TotalFigures({1: 1}, {"charge": (-1, 1)}),
        lambda: [state],
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(store)
    rendered = _families(generate_latest(registry).decode())
    return labels | {name: found for name, (_kind, found) in rendered.items()}


@pytest.fixture(scope="module")
def families(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, set[str]]]]:
    """Tidings' families on a running server's /metrics: type and label names."""
    url = fresh_database_url("sqlite", tmp_path_factory.mktemp("monitoring"))
    with served(url, FakeClock(CLOCK_START)) as srv:
        answer = srv.client.get("/metrics")
    assert answer.status_code == 200
    declared = _declared_labels()
    found = {}
    for name, (kind, seen) in _families(answer.text).items():
        # Once a counter or histogram has children, the text format shows their creation
        # times as a gauge family of its own: part of the family it belongs to (SUFFIXES).
        if name.endswith("_created") and name.removesuffix("_created") in declared:
            continue
        if name.startswith("tidings_"):
            assert name in declared, f"{name} is exported but this test cannot see its labels"
            found[name] = (kind, seen | declared[name])
    assert len(found) >= 20
    yield found


@pytest.fixture(scope="module")
def exported(families: dict[str, tuple[str, set[str]]]) -> Series:
    """The series PromQL can ask for, as it writes them, with their label names."""
    series: Series = dict(PROMETHEUS_SERIES)
    for name, (kind, labels) in families.items():
        for suffix in SUFFIXES.get(kind, ("",)):
            series[name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return series


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def _panels() -> list[dict[str, Any]]:
    return [p for p in _dashboard()["panels"] if p["type"] != "row"]


def _dashboard_queries() -> list[str]:
    queries = [t["expr"] for p in _panels() for t in p["targets"]]
    for variable in _dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            queries.append(variable["definition"])
    return queries


def _rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def _problems(expr: str, series: Series) -> list[str]:
    """What in one PromQL expression names a series, or a label, /metrics does not have."""
    problems = [f"{name}: not exported" for name in NAME.findall(expr) if name not in series]
    known = set(TARGET_LABELS)
    for name, matchers in SELECTOR.findall(expr):
        if name not in series:
            problems.append(f"{name}: not exported")
            continue
        known |= series[name]
        for label in MATCHER.findall(matchers):
            if label not in series[name] | TARGET_LABELS:
                problems.append(f"{name}: no label {label!r}")
    known |= {label for name in NAME.findall(expr) for label in series.get(name, set())}
    for group in GROUPING.findall(expr):
        for label in (part.strip() for part in group.split(",")):
            if label and label not in known:
                problems.append(f"grouping by {label!r}: no series here has it")
    return list(dict.fromkeys(problems))


def test_the_dashboard_is_a_grafana_dashboard() -> None:
    board = _dashboard()
    assert board["uid"] == "tidings" and board["title"] == "Tidings"
    panels = board["panels"]
    assert len({p["id"] for p in panels}) == len(panels), "panel ids are unique"
    for panel in panels:
        place = panel["gridPos"]
        assert place["x"] + place["w"] <= 24, f"{panel['title']} is wider than the grid"
    for panel in _panels():
        assert panel["targets"] and panel["description"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
    names = {v["name"] for v in board["templating"]["list"]}
    assert names == {"datasource", "job"}


def test_every_dashboard_query_asks_for_exported_series(exported: Series) -> None:
    found = {expr: _problems(expr, exported) for expr in _dashboard_queries()}
    assert {expr: p for expr, p in found.items() if p} == {}
    # …and the check is real: a misspelt series and a label it lacks are caught.
    assert _problems('rate(tidings_submit_total{result="accepted"}[5m])', exported)
    assert _problems('sum by (phone) (tidings_queue_depth{status="1"})', exported)


def test_the_dashboard_shows_every_exported_series(
    families: dict[str, tuple[str, set[str]]],
) -> None:
    used = {name for expr in _dashboard_queries() for name in NAME.findall(expr)}
    shown = {
        family
        for family, (kind, _labels) in families.items()
        if any(family + suffix in used for suffix in SUFFIXES.get(kind, ("",)))
    }
    assert set(families) - shown == set(), "series on /metrics that no panel shows"


def test_every_alert_rule_asks_for_exported_series(exported: Series) -> None:
    rules = _rules()
    assert len(rules) >= 8
    found = {rule["alert"]: _problems(rule["expr"], exported) for rule in rules}
    assert {alert: p for alert, p in found.items() if p} == {}
    for rule in rules:
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    tool = promtool()
    checked = subprocess.run([tool, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in checked.stdout
    # …and the check is real: an expression that does not parse is refused.
    broken = tmp_path / "broken.yml"
    broken.write_text(RULES.read_text().replace("== 0", "== ", 1))
    refused = subprocess.run([tool, "check", "rules", str(broken)], capture_output=True, text=True)
    assert refused.returncode != 0


def test_the_alerts_fire_as_their_unit_tests_say() -> None:
    tested = subprocess.run(
        [promtool(), "test", "rules", str(RULE_TESTS)], capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    cases = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    alerts = {c["alertname"] for case in cases for c in case["alert_rule_test"] if c["exp_alerts"]}
    assert len(alerts) >= 2


def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    """Each panel's query, with Grafana's variables filled in, as a recording rule."""
    tool = promtool()
    filled = [
        q.replace("$__rate_interval", "5m").replace("$job", ".+")
        for q in _dashboard_queries()
        if not q.startswith("label_values(")
    ]
    rules = [{"record": f"tidings:panel_{i}", "expr": q} for i, q in enumerate(filled)]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    checked = subprocess.run([tool, "check", "rules", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
