"""Deliver deferred runs' messages as they come due (quiet hours, a provider's long delay).

A run whose messages wait for their send time ends `deferred` instead of holding its
activation. This sensor looks for deferred runs with a message due and launches one pass per
run (`ActivationEngine.deliver_due`). The pass takes the activation's lock, so it never
delivers alongside a run or another pass, and the outbox's states make a second pass over the
same run harmless: nothing already sent is claimed again. The run key names the run and the
minute, and a run with a pass still in flight is skipped, so passes do not pile up.
"""

from datetime import UTC, datetime

import dagster as dg

from dagster_project.defs.activation.runs import fail_on, report_metadata
from dagster_project.resources import WAREHOUSE_WRITERS_POOL, TidemarkResource

DEFERRED_RUN_TAG = "tidemark/deferred-run"
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


class DeliverDueConfig(dg.Config):
    run_id: str


@dg.op(pool=WAREHOUSE_WRITERS_POOL)
def deliver_due_messages(
    context: dg.OpExecutionContext, config: DeliverDueConfig, tidemark: TidemarkResource
) -> None:
    report = tidemark.activation_engine().deliver_due(config.run_id)
    fail_on(report)
    context.log.info("deferred run %s: %s", config.run_id, report_metadata(report))


@dg.job(description="Delivers the messages of one deferred activation run that have come due.")
def deliver_due_job() -> None:
    deliver_due_messages()


@dg.sensor(
    job=deliver_due_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches a delivery pass for each deferred activation run with messages due.",
)
def deferred_deliveries_sensor(
    context: dg.SensorEvaluationContext, tidemark: TidemarkResource
) -> dg.SensorResult | dg.SkipReason:
    engine = tidemark.activation_engine()
    waiting = engine.deferred()
    if not waiting:
        return dg.SkipReason("no deferred activation runs")
    now = datetime.now(UTC)
    due = [r for r in waiting if r.next_due_at is None or r.next_due_at <= now]
    if not due:
        earliest = min(r.next_due_at for r in waiting if r.next_due_at is not None)
        return dg.SkipReason(
            f"{len(waiting)} deferred runs; the next message is due at "
            f"{earliest:%Y-%m-%d %H:%M} UTC"
        )
    requests = [
        dg.RunRequest(
            run_key=f"deliver-due:{r.run_id}:{now:%Y%m%dT%H%M}",
            run_config=dg.RunConfig(
                ops={"deliver_due_messages": DeliverDueConfig(run_id=r.run_id)}
            ),
            tags={"tidemark/activation": r.activation, DEFERRED_RUN_TAG: r.run_id},
        )
        for r in due
        if not _pass_in_flight(context.instance, r.run_id)
    ]
    if not requests:
        return dg.SkipReason(f"a delivery pass is already running for each of {len(due)} due runs")
    return dg.SensorResult(run_requests=requests)


def _pass_in_flight(instance: dg.DagsterInstance, run_id: str) -> bool:
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            job_name=deliver_due_job.name, tags={DEFERRED_RUN_TAG: run_id}, statuses=IN_FLIGHT
        ),
        limit=1,
    )
    return bool(runs)
