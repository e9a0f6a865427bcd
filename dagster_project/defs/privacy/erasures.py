"""Carry out pending erasure requests: the warehouse part of `DELETE /api/v1/profiles/{id}`.

The API suppresses the profile's addresses and clears its ops store rows at once, then
leaves an `ErasureRequest` pending; this sensor launches one run for what is pending, in the
warehouse writers' pool (DuckDB admits one writer), and the run removes the profile's rows
from every warehouse table and closes the requests. `run_key` is the set of pending request
ids, so a tick evaluated twice launches once; a run that crashed leaves the requests pending
and the next tick launches them again (the erasure is idempotent).
"""

import hashlib

import dagster as dg

from activation.data_subjects import carry_out_erasures
from activation.from_settings import ops_sessions
from connectors.ops_store.erasure_requests import pending_erasures
from dagster_project.resources import WAREHOUSE_WRITERS_POOL, TidemarkResource


@dg.op(pool=WAREHOUSE_WRITERS_POOL)
def carry_out_pending_erasures(context: dg.OpExecutionContext, tidemark: TidemarkResource) -> None:
    settings = tidemark.settings()
    outcomes = carry_out_erasures(tidemark.warehouse(), tidemark.landing(), ops_sessions(settings))
    for outcome in outcomes:
        context.log.info("erasure %s: %s", outcome.request_id, outcome.removed)


@dg.job(description="Removes erased profiles' rows from the warehouse (pending erasure requests).")
def erasure_job() -> None:
    carry_out_pending_erasures()


@dg.sensor(
    job=erasure_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches a run when erasure requests are pending (run_key = the pending set).",
)
def erasure_requests_sensor(
    context: dg.SensorEvaluationContext, tidemark: TidemarkResource
) -> dg.RunRequest | dg.SkipReason:
    with ops_sessions(tidemark.settings())() as session:
        pending = [r.request_id for r in pending_erasures(session)]
    if not pending:
        return dg.SkipReason("no erasure request is pending")
    key = hashlib.sha256(",".join(sorted(pending)).encode()).hexdigest()[:32]
    return dg.RunRequest(run_key=f"erasures-{key}", tags={"tidemark/erasures": str(len(pending))})
