"""Planning in the warehouse: diff against the snapshot, guardrails with reasons, quiet hours."""

from datetime import datetime, time

import pytest

from activation.definition import ActivationDefinition, FrequencyCap, QuietHours
from activation.plan import PlanError, plan_run
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.activation.audience import add_profile, create_audience_tables, segment

SEGMENT = segment()


def definition(**overrides):
    values = {
        "name": "welcome",
        "segment": "test",
        "destination": "sink",
        "channel": "email",
        "message": {"subject": "Hi", "from_address": "shop@example.com", "html": "<p>Hi</p>"},
        "quiet_hours": None,
    }
    values.update(overrides)
    return ActivationDefinition.model_validate(values)


@pytest.fixture
def warehouse(tmp_path):
    w = DuckDBWarehouse(tmp_path / "w.duckdb")
    create_audience_tables(w, "test")
    return w


def plan(w, d, run_id="r1", now=datetime(2026, 6, 1, 12, 0), suppressions=()):
    return plan_run(
        w, d, SEGMENT, run_id=run_id, now=now, immediate_suppressions=list(suppressions)
    )


def reasons(w, run_id="r1"):
    rows = w.query_arrow(
        "select profile_id, reason from tidemark.exclusions where run_id = ? and is_final",
        [run_id],
    ).to_pylist()
    return {r["profile_id"]: r["reason"] for r in rows}


def planned_ids(w, run_id="r1"):
    rows = w.query_arrow(
        "select profile_id from tidemark.planned_messages where run_id = ? order by 1", [run_id]
    )
    return rows.column("profile_id").to_pylist()


def test_guardrails_exclude_with_the_reason(warehouse):
    import hashlib

    add_profile(warehouse, "ok")
    add_profile(warehouse, "bad_email", "not-an-email", valid=False)
    add_profile(warehouse, "no_consent", consent="never_asked")
    add_profile(warehouse, "withdrawn", consent="withdrawn")
    add_profile(warehouse, "bounced", suppressed=True)
    add_profile(warehouse, "unsubscribed_now", "Gone@Example.com ")
    add_profile(warehouse, "family_a", "family@example.com")
    add_profile(warehouse, "family_b", "FAMILY@example.com")
    add_profile(warehouse, "not_in_segment", segments=())
    gone = hashlib.sha256(b"gone@example.com").hexdigest()

    summary = plan(warehouse, definition(), suppressions=[("email", gone)])

    assert planned_ids(warehouse) == ["family_a", "ok"]
    assert reasons(warehouse) == {
        "bad_email": "invalid_address",
        "no_consent": "no_consent",
        "withdrawn": "no_consent",
        "bounced": "suppressed",
        "unsubscribed_now": "suppressed",
        "family_b": "duplicate_address",
    }
    assert summary.members == 8 and summary.added == 8 and summary.planned == 2
    assert summary.excluded == {
        "invalid_address": 1,
        "no_consent": 2,
        "suppressed": 2,
        "duplicate_address": 1,
    }


def test_duplicate_or_null_keys_stop_the_plan(warehouse):
    add_profile(warehouse, "p1")
    warehouse.execute("insert into analytics.segment_test values ('p1', 'x@example.com', 'A')")
    with pytest.raises(PlanError, match="1 duplicate profile_id rows"):
        plan(warehouse, definition())
    warehouse.execute("delete from analytics.segment_test")
    warehouse.execute("insert into analytics.segment_test values (null, 'x@example.com', 'A')")
    with pytest.raises(PlanError, match="null profile_id"):
        plan(warehouse, definition())


def snapshot(w, run_id):
    """What a delivered run leaves: its planned members' snapshot rows replaced."""
    w.execute(
        "delete from tidemark.activation_snapshots where profile_id in "
        "(select profile_id from tidemark.planned_messages where run_id = ?)",
        [run_id],
    )
    w.execute(
        "insert into tidemark.activation_snapshots select activation, profile_id, row_hash, "
        "planned_at from tidemark.planned_messages where run_id = ?",
        [run_id],
    )


def test_diff_against_the_snapshot_by_mode(warehouse):
    for p in ("a", "b"):
        add_profile(warehouse, p)
    first = plan(warehouse, definition(), run_id="r1")
    snapshot(warehouse, "r1")
    add_profile(warehouse, "c")
    warehouse.execute("update analytics.segment_test set first_name = 'Bea' where profile_id = 'b'")
    warehouse.execute("delete from analytics.segment_test where profile_id = 'a'")

    add_only = plan(warehouse, definition(), run_id="r2")
    upsert = plan(warehouse, definition(name="welcome", mode="upsert"), run_id="r3")
    assert upsert.planned == 2

    assert first.added == 2 and first.planned == 2
    assert (add_only.added, add_only.changed, add_only.removed) == (1, 1, 1)
    assert planned_ids(warehouse, "r2") == ["c"]
    assert planned_ids(warehouse, "r3") == ["b", "c"]


def test_values_that_run_into_each_other_or_turn_null_are_changes(warehouse):
    """A row's hash reads each value with its length: moving text from one column to the
    next, or '' becoming NULL becoming '~', is a change, not the same row."""
    upsert = definition(mode="upsert")
    add_profile(warehouse, "a", "a@b.co", first_name="m")
    plan(warehouse, upsert, run_id="r1")
    snapshot(warehouse, "r1")
    rows = [("a@b.com", "''"), ("a@b.com", "null"), ("a@b.com", "'~'"), ("a@b.com", "'~'")]
    changed = []
    for index, (email, first_name) in enumerate(rows, start=2):
        warehouse.execute(
            f"update analytics.segment_test set email = '{email}', first_name = {first_name}"
        )
        changed.append(plan(warehouse, upsert, run_id=f"r{index}").changed)
        snapshot(warehouse, f"r{index}")
    assert changed == [1, 1, 1, 0]


def test_snapshots_hashed_as_before_still_tell_unchanged_members_from_changed(warehouse):
    """Hashes written before the current encoding (the md5 of the row's attributes, no
    prefix) are compared as they were written: an upgrade re-sends nothing unchanged."""
    for p in ("a", "b"):
        add_profile(warehouse, p)
    plan(warehouse, definition(mode="upsert"), run_id="r1")
    warehouse.execute(
        "insert into tidemark.activation_snapshots select activation, profile_id, "
        "md5(attributes), planned_at from tidemark.planned_messages where run_id = 'r1'"
    )
    warehouse.execute("update analytics.segment_test set first_name = 'Bea' where profile_id = 'b'")

    second = plan(warehouse, definition(mode="upsert"), run_id="r2")
    assert (second.added, second.changed, second.planned) == (0, 1, 1)
    assert planned_ids(warehouse, "r2") == ["b"]
    snapshot(warehouse, "r2")
    current = warehouse.query_arrow(
        "select profile_id, row_hash like 'r2:%' as current from tidemark.activation_snapshots"
    ).to_pylist()
    assert {r["profile_id"]: r["current"] for r in current} == {"a": False, "b": True}


def test_an_address_already_messaged_by_the_activation_is_a_duplicate_for_another_profile(
    warehouse,
):
    """Two profiles sharing an address across runs: the later one is never mailed."""
    add_profile(warehouse, "first", "shared@example.com")
    add_profile(warehouse, "own", "own@example.com")
    plan(warehouse, definition(), run_id="r1")
    snapshot(warehouse, "r1")
    add_profile(warehouse, "second", " Shared@Example.com")
    add_profile(warehouse, "newcomer", "new@example.com")
    warehouse.execute(
        "update analytics.segment_test set first_name = 'Own' where profile_id = 'own'"
    )

    summary = plan(warehouse, definition(mode="upsert"), run_id="r2")

    assert planned_ids(warehouse, "r2") == ["newcomer", "own"]
    assert reasons(warehouse, "r2") == {"second": "duplicate_address"}
    assert summary.excluded == {"duplicate_address": 1}


def test_message_ids_are_deterministic_per_run(warehouse):
    add_profile(warehouse, "a")
    plan(warehouse, definition(), run_id="r1")
    first = warehouse.scalar("select message_id from tidemark.planned_messages")
    plan(warehouse, definition(), run_id="r1")  # a crashed plan, run again
    assert warehouse.scalar("select count(*) from tidemark.planned_messages") == 1
    assert warehouse.scalar("select message_id from tidemark.planned_messages") == first
    plan(warehouse, definition(), run_id="r2")
    assert warehouse.scalar("select count(distinct message_id) from tidemark.planned_messages") == 2


def test_frequency_cap_counts_recent_messages_across_activations(warehouse):
    add_profile(warehouse, "busy")
    add_profile(warehouse, "quiet")
    plan(warehouse, definition(), run_id="setup")  # creates the engine tables
    for n in range(2):
        warehouse.execute(
            "insert into tidemark.message_log (message_id, run_id, activation, profile_id, "
            "channel, address, variant, state, attempts, send_after, planned_at, sent_at, "
            "updated_at) values (?, 'old', 'other', 'busy', 'email', 'x', 'default', 'sent', 1, "
            "?, ?, ?, ?)",
            [
                f"m{n}",
                datetime(2026, 5, 31),
                datetime(2026, 5, 31),
                datetime(2026, 5, 31, 9),
                datetime(2026, 5, 31),
            ],
        )
    capped = definition(frequency_cap=FrequencyCap(max_messages=2, window_hours=48))
    plan(warehouse, capped, run_id="r1")
    assert reasons(warehouse) == {"busy": "frequency_cap"}
    relaxed = definition(frequency_cap=FrequencyCap(max_messages=2, window_hours=12))
    plan(warehouse, relaxed, run_id="r2")
    assert planned_ids(warehouse, "r2") == ["busy", "quiet"]


@pytest.mark.parametrize(
    ("zone", "now", "expected_send_after"),
    [
        # 01:30 EST, the night DST starts in the US: quiet until 08:00 EDT = 12:00 UTC.
        ("America/New_York", datetime(2026, 3, 8, 6, 30), datetime(2026, 3, 8, 12, 0)),
        # 15:30 in Tokyo: send now.
        ("Asia/Tokyo", datetime(2026, 3, 8, 6, 30), datetime(2026, 3, 8, 6, 30)),
        # 01:30 CET the night the EU moves to CEST: 08:00 CEST = 06:00 UTC.
        ("Europe/Berlin", datetime(2026, 3, 29, 0, 30), datetime(2026, 3, 29, 6, 0)),
        # 01:30 EDT the night the US falls back: 08:00 EST = 13:00 UTC.
        ("America/New_York", datetime(2026, 11, 1, 5, 30), datetime(2026, 11, 1, 13, 0)),
        # 22:00 in London (BST): quiet until 08:00 BST tomorrow = 07:00 UTC.
        ("Europe/London", datetime(2026, 6, 1, 21, 0), datetime(2026, 6, 2, 7, 0)),
        # 08:00 local exactly: the window is over.
        ("UTC", datetime(2026, 6, 1, 8, 0), datetime(2026, 6, 1, 8, 0)),
    ],
)
def test_quiet_hours_defer_in_the_recipients_time_zone(warehouse, zone, now, expected_send_after):
    add_profile(warehouse, "p", tz=zone)
    d = definition(quiet_hours=QuietHours(start=time(21), end=time(8)))
    summary = plan(warehouse, d, now=now)
    send_after = warehouse.scalar("select send_after from tidemark.planned_messages")
    assert send_after == expected_send_after
    deferred = send_after > now
    assert summary.deferred == int(deferred)
    kinds = warehouse.query_arrow("select reason, is_final from tidemark.exclusions").to_pylist()
    assert kinds == ([{"reason": "quiet_hours_deferred", "is_final": False}] if deferred else [])


def test_sms_needs_an_e164_phone_and_sms_consent(warehouse):
    add_profile(warehouse, "texter", phone="+14155550100", sms_consent="granted")
    add_profile(warehouse, "no_phone", sms_consent="granted")
    add_profile(warehouse, "local_format", phone="415 555 0100", sms_consent="granted")
    add_profile(warehouse, "email_only", phone="+14155550101")
    sms = definition(channel="sms", message={"body": "Hi {{ first_name }}"})
    plan(warehouse, sms)
    assert planned_ids(warehouse) == ["texter"]
    assert reasons(warehouse) == {
        "no_phone": "invalid_address",
        "local_format": "invalid_address",
        "email_only": "no_consent",
    }
