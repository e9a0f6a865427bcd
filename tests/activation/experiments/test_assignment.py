"""Assignment: the hash in SQL equals the Python twin; stable, uniform, independent across salts;
recorded once per person by the plan, holdout members excluded and never sent."""

import math
import string
from collections import Counter
from datetime import datetime

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activation.definition import ActivationDefinition
from activation.experiments.assignment import BUCKETS, arm_of, bucket_of, bucket_sql, digest_sql
from activation.plan import plan_run
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.activation.audience import add_many, add_profile, create_audience_tables, segment

profile_ids = st.text(alphabet=string.ascii_letters + string.digits + "-_@.", min_size=1)
salts = st.text(alphabet=string.ascii_lowercase + string.digits + "_", min_size=1, max_size=20)


@settings(max_examples=50, deadline=None)
@given(salt=salts, ids=st.lists(profile_ids, min_size=1, max_size=50, unique=True))
def test_sql_bucket_equals_the_python_formula(salt, ids):
    sql = bucket_sql(digest_sql("$salt", "id"))
    with duckdb.connect() as connection:
        rows = connection.execute(
            f"select id, {sql} from unnest($ids) as t(id)", {"salt": salt, "ids": ids}
        ).fetchall()
    assert dict(rows) == {i: bucket_of(salt, i) for i in ids}


@given(salt=salts, profile_id=profile_ids)
def test_the_same_person_always_gets_the_same_bucket(salt, profile_id):
    first = bucket_of(salt, profile_id)
    assert first == bucket_of(salt, profile_id)
    assert 0 <= first < BUCKETS


def chi_square_ok(counts, expected):
    """Chi-square goodness of fit at the 1e-4 level (no false alarm in practice)."""
    from scipy.stats import chi2

    statistic = sum((counts.get(k, 0) - e) ** 2 / e for k, e in expected.items())
    return chi2.sf(statistic, len(expected) - 1) > 1e-4


@settings(max_examples=20, deadline=None)
@given(salt=salts)
def test_buckets_are_uniform_within_tolerance(salt):
    counts = Counter(bucket_of(salt, f"p{i}") * 20 // BUCKETS for i in range(20_000))
    assert chi_square_ok(counts, dict.fromkeys(range(20), 1000))


@settings(max_examples=20, deadline=None)
@given(first=salts, second=salts)
def test_assignments_are_independent_across_salts(first, second):
    if first == second:
        return
    pairs = Counter(
        (bucket_of(first, f"p{i}") * 4 // BUCKETS, bucket_of(second, f"p{i}") * 4 // BUCKETS)
        for i in range(16_000)
    )
    # Independent halves: each of the 16 cells holds a sixteenth.
    assert chi_square_ok(pairs, {(a, b): 1000 for a in range(4) for b in range(4)})


# --- the plan records assignments -------------------------------------------------------------


def definition(**experiment_overrides):
    experiment = {
        "id": "subject_test",
        "variants": [{"name": "a"}, {"name": "b", "subject": "B!", "send_delay_hours": 2}],
        "holdout_percent": 10,
    }
    experiment.update(experiment_overrides)
    return ActivationDefinition.model_validate(
        {
            "name": "welcome",
            "segment": "test",
            "destination": "sink",
            "channel": "email",
            "message": {"subject": "A", "from_address": "shop@example.com", "html": "<p>Hi</p>"},
            "quiet_hours": None,
            "experiment": experiment,
        }
    )


NOW = datetime(2026, 6, 1, 12, 0)


@pytest.fixture
def warehouse(tmp_path):
    w = DuckDBWarehouse(tmp_path / "w.duckdb")
    create_audience_tables(w, "test")
    return w


def plan(w, d, run_id):
    return plan_run(w, d, segment(), run_id=run_id, now=NOW, immediate_suppressions=[])


def assignments(w):
    rows = w.query_arrow(
        "select profile_id, variant, is_holdout, run_id from tidemark.experiment_assignments"
    ).to_pylist()
    return {r["profile_id"]: r for r in rows}


def test_plan_assigns_by_hash_and_holds_the_holdout_back(warehouse):
    add_many(warehouse, 3000)
    add_profile(warehouse, "no_consent", consent="withdrawn")
    d = definition()

    summary = plan(warehouse, d, "r1")

    recorded = assignments(warehouse)
    assert "no_consent" not in recorded  # only people who could be messaged are assigned
    assert len(recorded) == 3000
    assert all(r["variant"] == arm_of(d.experiment, p) for p, r in recorded.items())
    holdout = {p for p, r in recorded.items() if r["is_holdout"]}
    assert holdout == {p for p, r in recorded.items() if r["variant"] == "holdout"}
    assert math.isclose(len(holdout), 300, abs_tol=4 * math.sqrt(300))
    assert summary.excluded["holdout"] == len(holdout)
    assert summary.planned == 3000 - len(holdout)
    planned = warehouse.query_arrow(
        "select profile_id, variant, send_after from tidemark.planned_messages"
    ).to_pylist()
    assert not holdout & {r["profile_id"] for r in planned}
    assert all(r["variant"] == recorded[r["profile_id"]]["variant"] for r in planned)
    delays = {r["variant"]: r["send_after"] - NOW for r in planned}
    assert delays["a"].total_seconds() == 0 and delays["b"].total_seconds() == 2 * 3600
    excluded = warehouse.query_arrow(
        "select profile_id from tidemark.exclusions where reason = 'holdout'"
    ).column(0)
    assert set(excluded.to_pylist()) == holdout
    arms_configured = warehouse.query_arrow(
        "select variant, is_control, traffic_share from tidemark.experiments order by 1"
    ).to_pylist()
    assert arms_configured == [
        {"variant": "a", "is_control": True, "traffic_share": 0.45},
        {"variant": "b", "is_control": False, "traffic_share": 0.45},
        {"variant": "holdout", "is_control": False, "traffic_share": 0.1},
    ]


def test_reruns_keep_everyone_in_their_first_arm(warehouse):
    add_many(warehouse, 500)
    plan(warehouse, definition(), "r1")
    first = assignments(warehouse)
    plan(warehouse, definition(), "r1")  # the same run planned again after a crash
    add_many(warehouse, 100, prefix="q")
    # New weights and salt later on: recorded people stay put, newcomers use the new split.
    changed = definition(salt="reshuffled", variants=[{"name": "a", "weight": 9}, {"name": "b"}])
    plan(warehouse, changed, "r2")

    after = assignments(warehouse)
    assert len(after) == 600
    assert {p: after[p] for p in first} == first
    newcomers = {p: r for p, r in after.items() if p.startswith("q")}
    assert all(r["run_id"] == "r2" for r in newcomers.values())
    assert all(r["variant"] == arm_of(changed.experiment, p) for p, r in newcomers.items())
