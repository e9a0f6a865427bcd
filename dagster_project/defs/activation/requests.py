"""Carry out activation requests written to the ops store (by the API, the dashboards).

The sensor claims pending requests and launches one run per request with
`run_key = request_id`, so a request is never run twice; the job marks it done or failed.
"""

import dagster as dg

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


@dg.op(pool=WAREHOUSE_WRITERS_POOL)
def carry_out_activation_request(
    context: dg.OpExecutionContext, config: ActivationRequestConfig, tidemark: TidemarkResource
) -> None:
    engine = tidemark.activation_engine()
    try:
        report = run_activation(
            engine,
            config.activation,
            run_id=config.request_id,
            dry_run=config.dry_run,
            requested_by=f"request:{config.request_id}",
        )
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
