"""The Grafana dashboard and the Prometheus alerts in docs/ name only metrics that exist, and
the operations guide has a section for every alert."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from app.services import heartbeats, operator_keys
from tests.support.processes import REPO
from tests.test_metrics import samples

DOCS = REPO / "docs"
METRIC = re.compile(r"\bsignalpost_[a-z_]+\b")


def alert_rules() -> list[dict]:
    document = yaml.safe_load((DOCS / "prometheus-alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    assert dashboard["panels"], "the dashboard has panels"
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


@pytest.fixture
def scraped_names(client, ctx) -> set[str]:
    # Heartbeat ages exist only once a worker and beat were seen.
    for role in heartbeats.ROLES:
        heartbeats.record(role, "docs-test:1")
    key = operator_keys.create_key("docs test")[1]
    response = client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    return {name for name, _ in samples(response.get_data(as_text=True))}


def test_every_metric_the_alerts_and_the_dashboard_name_exists(scraped_names):
    expressions = [rule["expr"] for rule in alert_rules()] + dashboard_expressions()
    named = {name for expression in expressions for name in METRIC.findall(expression)}
    assert named, "the expressions name Signalpost's metrics"
    assert sorted(named - scraped_names) == []
    # Everything the contract promises is on the dashboard.
    for promised in (
        "signalpost_deliveries_total",
        "signalpost_attempt_duration_seconds_bucket",
        "signalpost_queue_depth",
        "signalpost_deliveries_overdue",
        "signalpost_webhooks_disabled",
    ):
        assert promised in named


def test_every_alert_is_explained_in_the_operations_guide():
    guide = (DOCS / "operations.md").read_text()
    sections = set(re.findall(r"^### (\w+)$", guide, re.MULTILINE))
    for rule in alert_rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{name.lower()}"
        assert name in sections, f"docs/operations.md has no section '### {name}'"
