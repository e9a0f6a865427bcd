"""`send_time: recommended`: each recipient waits for their recommended local hour.

The recommendations are rows of `analytics.send_time_recommendations` (the dbt model's
shape; the model itself is tested in tests/dbt). The clock is moved by the test: each message
must stay queued until its instant in UTC and go out then, across time zones and the United
States' switch to daylight saving time on 2026-03-08 (New York: UTC-5 before, UTC-4 after).
"""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from activation.definition import ActivationDefinition
from activation.engine import ActivationEngine
from tests.activation.audience import add_profile
from tests.activation.conftest import define, make_engine, received_by_address
from tests.activation.test_deferred_runs import Clock, deliver_due_runs
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)

QUIET = {"start": "21:00", "end": "08:00"}
POPULATION_HOUR = 10
# Saturday 20:00 UTC: 15:00 in New York (EST), 21:00 in Paris, Sunday 05:00 in Tokyo.
PLANNED_AT = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)

# profile: (time zone, recommended local hour or None when the model has not seen it yet,
#           the UTC instant it must be delivered at)
RECIPIENTS = {
    # It is 20:00 in UTC now: her hour, so she gets it at once.
    "inhour": ("UTC", 20, PLANNED_AT),
    # 16:00 EST today, before the switch.
    "ny_today": ("America/New_York", 16, datetime(2026, 3, 7, 21, 0, tzinfo=UTC)),
    # Created since the last build: the population's hour, 10:00 tomorrow.
    "fresh": ("UTC", None, datetime(2026, 3, 8, 10, 0, tzinfo=UTC)),
    # 09:00 on Sunday is EDT (clocks went forward at 02:00): 13:00 UTC, not 14:00.
    "ny_dst": ("America/New_York", 9, datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
    # 19:00 tomorrow in Paris (CET, no change until 29 March).
    "paris": ("Europe/Paris", 19, datetime(2026, 3, 8, 18, 0, tzinfo=UTC)),
    # 23:00 falls in quiet hours: it waits for 08:00 on Monday in Tokyo.
    "tokyo": ("Asia/Tokyo", 23, datetime(2026, 3, 8, 23, 0, tzinfo=UTC)),
}


def create_recommendations(warehouse, hours):
    warehouse.execute(
        "create table analytics.send_time_recommendations (profile_id varchar, "
        "time_zone varchar, recommended_hour integer, events_used integer, "
        "events_at_recommended_hour integer, confidence double, population_hour integer, "
        "has_history boolean)"
    )
    for profile_id, (zone, hour) in hours.items():
        warehouse.execute(
            "insert into analytics.send_time_recommendations values (?, ?, ?, 5, 4, 0.6, ?, true)",
            [profile_id, zone, hour, POPULATION_HOUR],
        )


def test_each_message_waits_for_its_recipients_recommended_hour_across_zones_and_dst(
    settings, warehouse, sessions, sink
):
    for profile_id, (zone, _hour, _due) in RECIPIENTS.items():
        add_profile(warehouse, profile_id, tz=zone)
    create_recommendations(
        warehouse,
        {p: (zone, hour) for p, (zone, hour, _) in RECIPIENTS.items() if hour is not None},
    )
    define(sessions, quiet_hours=QUIET, send_time="recommended")
    clock = Clock(PLANNED_AT)
    engine = make_engine(settings, warehouse, sessions, clock=clock)

    run = engine.run("welcome", requested_by="test")

    assert run.status == "deferred"
    assert run.plan.planned == len(RECIPIENTS) and run.plan.deferred == len(RECIPIENTS) - 1
    planned = {
        r["profile_id"]: r["send_after"].replace(tzinfo=UTC)
        for r in warehouse.query_arrow(
            "select profile_id, send_after from tidemark.planned_messages"
        ).to_pylist()
    }
    assert planned == {p: due for p, (_zone, _hour, due) in RECIPIENTS.items()}
    waiting = warehouse.query_arrow(
        "select reason, is_final, count(*) as n from tidemark.exclusions group by all"
    ).to_pylist()
    assert waiting == [{"reason": "send_time_deferred", "is_final": False, "n": 5}]
    assert received_by_address(sink) == {"inhour@example.com": 1}

    delivered = {"inhour@example.com": 1}
    for profile_id, (_zone, _hour, due) in sorted(RECIPIENTS.items(), key=lambda i: i[1][2]):
        if due == PLANNED_AT:
            continue
        clock.now = due - timedelta(seconds=1)
        assert engine.due() == [], f"nothing is due a second before {profile_id}'s time"
        assert deliver_due_runs(engine) == []
        clock.now = due
        [report] = deliver_due_runs(engine)
        delivered[f"{profile_id}@example.com"] = 1
        assert received_by_address(sink) == delivered, profile_id

    assert report.status == "completed"
    sent_at = {
        r["profile_id"]: r["sent_at"].replace(tzinfo=UTC)
        for r in warehouse.query_arrow(
            "select profile_id, sent_at from tidemark.message_log"
        ).to_pylist()
    }
    assert sent_at == planned


def test_recommended_send_times_need_the_model_built(settings, warehouse, sessions, sink):
    add_profile(warehouse, "ann")
    define(sessions, send_time="recommended")
    engine: ActivationEngine = make_engine(settings, warehouse, sessions)

    with pytest.raises(RuntimeError, match="send_time_recommendations has not been built yet"):
        engine.run("welcome", requested_by="test")
    assert sink.received == []


def test_a_webhook_cannot_use_recommended_send_times():
    with pytest.raises(ValidationError, match="send_time 'recommended' applies to email and sms"):
        ActivationDefinition.model_validate(
            {
                "name": "sync",
                "segment": "test",
                "destination": "hook",
                "channel": "webhook",
                "message": {"url": "https://example.com/hook", "payload": {"id": "x"}},
                "send_time": "recommended",
            }
        )
    with pytest.raises(ValidationError, match="send_time"):
        ActivationDefinition.model_validate(
            {
                "name": "welcome",
                "segment": "test",
                "destination": "sink",
                "channel": "sms",
                "message": {"body": "hi"},
                "send_time": "best",
            }
        )
