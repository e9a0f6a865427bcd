"""Carry out activation requests written to the ops store (by the API, the dashboards).

The sensor claims pending requests and launches one run per request with
`run_key = request_id`, so a request is never run twice; the job marks it done or failed.
A request is a run, a dry run, or the approval of a run held by its size limit (the engine
enqueues and delivers the held plan, and audits the approval in the approver's name).
"""

import dagster as dg

from activation.engine import ActivationEngine, RunReport
from connectors.ops_store import (
    RequestKind,
    RequestStatus,
    claim_pending_requests,
    mark_request,
)
from connectors.ops_store.engine import write_transaction
from dagster_project.defs.activation.runs import fail_on, report_metadata, run_activation
from dagster_project.resources import WAREHOUSE_WRITERS_POOL, TidemarkResource

MAX_REQUESTS_PER_TICK = 20


class ActivationRequestConfig(dg.Config):
    activation: str
    request_id: str
    dry_run: bool = False
    approve_run_id: str | None = None  # an approval: the held run it releases
    requested_by: str = ""  # who asked: an approval is audited in their name


def _carry_out(engine: ActivationEngine, config: ActivationRequestConfig) -> RunReport:
    if config.approve_run_id is not None:
        return engine.approve(config.approve_run_id, actor=config.requested_by)
    return run_activation(
        engine,
        config.activation,
        run_id=config.request_id,
        dry_run=config.dry_run,
        requested_by=f"request:{config.request_id}",
    )


@dg.op(pool=WAREHOUSE_WRITERS_POOL)
def carry_out_activation_request(
    context: dg.OpExecutionContext, config: ActivationRequestConfig, tidemark: TidemarkResource
) -> None:
    engine = tidemark.activation_engine()
    try:
        report = _carry_out(engine, config)
        fail_on(report)
    except Exception as error:
        with write_transaction(engine.sessions) as session:
            mark_request(session, config.request_id, RequestStatus.FAILED, reason=str(error))
        raise
    with write_transaction(engine.sessions) as session:
        mark_request(session, config.request_id, RequestStatus.DONE, reason=report.status)
    context.log.info("activation %s: %s", config.activation, report_metadata(report))


@dg.job(description="Runs one activation request from the ops store.")
def activation_request_job() -> None:
    carry_out_activation_request()


@dg.sensor(
    job=activation_request_job,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches one run per pending activation request (run_key = request id).",
)
def activation_requests_sensor(
    context: dg.SensorEvaluationContext, tidemark: TidemarkResource
) -> dg.SensorResult | dg.SkipReason:
    engine = tidemark.activation_engine()
    with write_transaction(engine.sessions) as session:
        claimed = claim_pending_requests(session, MAX_REQUESTS_PER_TICK)
        requests = [
            dg.RunRequest(
                run_key=r.request_id,
                run_config=dg.RunConfig(
                    ops={
                        "carry_out_activation_request": ActivationRequestConfig(
                            activation=r.activation_name,
                            request_id=r.request_id,
                            dry_run=r.kind is RequestKind.DRY_RUN,
                            approve_run_id=r.run_id if r.kind is RequestKind.APPROVE else None,
                            requested_by=r.requested_by,
                        )
                    }
                ),
                tags={"tidemark/activation": r.activation_name},
            )
            for r in claimed
        ]
    if not requests:
        return dg.SkipReason("no pending activation requests")
    return dg.SensorResult(run_requests=requests)
