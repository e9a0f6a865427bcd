"""An ops store left by an older Tidemark (schema version 1, before `deferred` runs) is
upgraded at start-up, and an activation deferred by quiet hours then runs on it: the status
the old CHECK refused is recorded, and the due pass completes the run."""

from datetime import timedelta

import pytest

from connectors.ops_store import SCHEMA_VERSION, create_ops_engine, create_schema, ops_sessionmaker
from connectors.ops_store.delivery_models import ActivationRun, RunStatus
from tests.activation.audience import add_profile
from tests.activation.conftest import define, make_engine, received_by_address
from tests.activation.test_deferred_runs import (
    DAYTIME_ZONE,
    LATE_EVENING,
    UTC_MORNING,
    Clock,
    deliver_due_runs,
    run_statuses,
)
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING
from tests.connectors.ops_store.version_1_store import OLD_RUN_ID, create_version_1_store

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_store_dsn(request, settings):
    dsn = (
        settings.ops_store_dsn
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    create_version_1_store(dsn)
    return dsn


def test_an_upgraded_version_1_store_takes_a_run_that_ends_deferred(
    settings, warehouse, sink, old_store_dsn
):
    ops = create_ops_engine(old_store_dsn)
    assert create_schema(ops) == SCHEMA_VERSION
    sessions = ops_sessionmaker(ops)
    add_profile(warehouse, "day", tz=DAYTIME_ZONE)
    add_profile(warehouse, "night", tz="UTC")
    define(sessions, quiet_hours={"start": "21:00", "end": "08:00"})
    clock = Clock(LATE_EVENING)
    engine = make_engine(settings, warehouse, sessions, clock=clock)

    deferred = engine.run("welcome", requested_by="test")

    assert deferred.status == "deferred"
    assert deferred.counts == {"sent": 1, "planned": 1}
    assert run_statuses(warehouse)[deferred.run_id] == "deferred"

    clock.now = UTC_MORNING + timedelta(minutes=1)
    [done] = deliver_due_runs(engine)

    assert done.status == "completed"
    assert received_by_address(sink) == {"day@example.com": 1, "night@example.com": 1}
    assert run_statuses(warehouse)[deferred.run_id] == "completed"
    assert engine.deferred() == []
    with sessions() as session:
        assert session.get(ActivationRun, OLD_RUN_ID).status is RunStatus.COMPLETED
    ops.dispose()
