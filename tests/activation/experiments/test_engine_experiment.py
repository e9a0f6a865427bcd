"""An activation with an A/B test and a holdout, run by the engine into a real SMTP sink:
each arm gets its own subject line, the holdout gets nothing, and the warehouse records who
was in which arm and which variant every message was."""

import pytest

from activation.experiments.assignment import arm_of
from tests.activation.audience import add_many
from tests.activation.conftest import define, make_engine
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)

EXPERIMENT = {
    "id": "welcome_subject",
    "variants": [
        {"name": "plain"},
        {"name": "friendly", "subject": "{{ first_name }}, a little welcome gift"},
    ],
    "holdout_percent": 20,
    "guardrail_metrics": ["unsubscribe"],
}


def test_each_arm_gets_its_subject_and_the_holdout_nothing(settings, warehouse, sessions, sink):
    add_many(warehouse, 60)
    definition = define(sessions, experiment=EXPERIMENT)
    engine = make_engine(settings, warehouse, sessions)

    report = engine.run("welcome", requested_by="test")

    arms = {f"p{i:06d}": arm_of(definition.experiment, f"p{i:06d}") for i in range(60)}
    held = {p for p, arm in arms.items() if arm == "holdout"}
    assert held and len(held) < 60
    assert report.status == "completed"
    assert report.counts == {"sent": 60 - len(held)}
    subjects = {
        rcpt.split("@")[0]: mail.message["Subject"]
        for mail in sink.received
        for rcpt in mail.rcpt_tos
    }
    assert not held & set(subjects)
    for profile, subject in subjects.items():
        wanted = "Welcome, Ann" if arms[profile] == "plain" else "Ann, a little welcome gift"
        assert subject == wanted, profile
    logged = warehouse.query_arrow(
        "select profile_id, variant from tidemark.message_log"
    ).to_pylist()
    assert {r["profile_id"]: r["variant"] for r in logged} == {
        p: a for p, a in arms.items() if a != "holdout"
    }
    assigned = warehouse.query_arrow(
        "select profile_id, variant from tidemark.experiment_assignments"
    ).to_pylist()
    assert {r["profile_id"]: r["variant"] for r in assigned} == arms

    again = engine.run("welcome", requested_by="test")  # nothing new: nobody is sent twice
    assert again.counts.get("sent", 0) == 0
    assert len(sink.received) == 60 - len(held)
