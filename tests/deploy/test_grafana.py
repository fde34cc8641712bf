"""deploy/grafana/quotient-dashboard.json: importable, and its queries use only real metrics.

The metric names and labels are a contract between shared.observability.metrics and the
dashboard; renaming either side without the other fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import Counter, Gauge, Histogram

from shared.observability import metrics

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "quotient-dashboard.json"

# name -> (type, labels): the metrics contract the dashboard is written against.
CONTRACT: dict[str, tuple[str, set[str]]] = {
    "quotient_http_request_seconds": ("histogram", {"method", "route", "status"}),
    "quotient_events_consumed_total": ("counter", {"group", "topic"}),
    "quotient_events_duplicate_total": ("counter", {"group", "topic"}),
    "quotient_events_dead_lettered_total": ("counter", {"group", "topic"}),
    "quotient_events_published_total": ("counter", {"schema", "topic"}),
    "quotient_outbox_backlog": ("gauge", {"schema"}),
    "quotient_consumer_lag": ("gauge", {"group", "topic", "partition"}),
    "quotient_recalculation_seconds": ("histogram", {"service", "group"}),
    "quotient_webhooks_total": ("counter", {"vendor", "outcome"}),
}
# What the dashboard must show (one panel may not silently disappear).
REQUIRED = set(CONTRACT) - {"quotient_events_duplicate_total"}
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # panels folded inside a row
    return found


def series_metric(series: str) -> str:
    """The contract metric a series in a query belongs to (histograms expose three series)."""
    for suffix in HISTOGRAM_SERIES:
        base = series.removesuffix(suffix)
        if base != series and CONTRACT.get(base, ("",))[0] == "histogram":
            return base
    return series


def test_the_code_defines_the_contract_metrics() -> None:
    defined: dict[str, tuple[str, set[str]]] = {}
    for value in vars(metrics).values():
        if isinstance(value, Counter):
            defined[value._name + "_total"] = ("counter", set(value._labelnames))
        elif isinstance(value, Gauge):
            defined[value._name] = ("gauge", set(value._labelnames))
        elif isinstance(value, Histogram):
            defined[value._name] = ("histogram", set(value._labelnames))
    assert defined == CONTRACT


def test_dashboard_is_importable(dashboard: dict[str, Any]) -> None:
    assert dashboard["title"] and dashboard["uid"]
    assert dashboard["schemaVersion"] >= 39
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {ids}"
    for panel in panels(dashboard):
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and 0 <= grid["x"] and grid["x"] + grid["w"] <= 24


def test_every_panel_queries_only_contract_metrics(dashboard: dict[str, Any]) -> None:
    used: set[str] = set()
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        title = panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, title
        targets = panel.get("targets") or []
        assert targets, f"{title}: no query"
        for target in targets:
            expr: str = target["expr"]
            assert target.get("datasource", panel["datasource"])["uid"] == "${datasource}"
            assert expr.count("(") == expr.count(")") and expr.count("[") == expr.count("]")
            assert expr.count("{") == expr.count("}"), f"{title}: {expr}"
            series = set(re.findall(r"\bquotient_[a-z_]+\b", expr))
            assert series, f"{title}: {expr} uses no Quotient metric"
            names = {series_metric(s) for s in series}
            unknown = names - CONTRACT.keys()
            assert not unknown, f"{title}: unknown metrics {unknown} in {expr}"
            for s in series:
                if s.endswith(HISTOGRAM_SERIES) and s not in CONTRACT:
                    assert CONTRACT[series_metric(s)][0] == "histogram", s
                elif CONTRACT[s][0] == "histogram":
                    pytest.fail(f"{title}: histogram {s} used without _bucket/_sum/_count")
            # Grouping and matching labels must exist on the metrics queried.
            labels = set().union(*(CONTRACT[n][1] for n in names)) | {"le"}
            for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
                wanted = {label.strip() for label in group.split(",") if label.strip()}
                assert wanted <= labels, f"{title}: labels {wanted - labels} in {expr}"
            for label in re.findall(r"[{,]\s*([a-z_]+)\s*=~?", expr):
                assert label in labels, f"{title}: label {label} in {expr}"
            used |= names
    assert REQUIRED <= used, f"no panel for {REQUIRED - used}"


def test_a_renamed_metric_would_be_caught(dashboard: dict[str, Any]) -> None:
    """The checks above bite: the same dashboard with one metric renamed fails them."""
    renamed = json.loads(
        json.dumps(dashboard).replace("quotient_consumer_lag", "quotient_consumer_lagg")
    )
    with pytest.raises(AssertionError):
        test_every_panel_queries_only_contract_metrics(renamed)
