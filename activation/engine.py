"""Run an activation end to end: lock, plan, approval check, enqueue, snapshot, deliver, mirror.

The approval check holds a run whose plan exceeds the activation's size limits, or whose
data the monitoring models flag as anomalous (activation/anomalies.py), until an admin
approves it. The flagged points that held a run are recorded with it (ops store
`anomaly_holds`); approving the run approves them, so the activation's later runs over the
same points are not held for them again.

A run is resumable at every step. Its status in the ops store says where it is
(planning → enqueued → delivering → completed | deferred), every step is idempotent (the plan
replaces its rows, enqueueing ignores known message ids, the snapshot update is a
delete-then-insert of the run's members), and a rerun after a crash takes over the dead
run's lock and carries on from its status instead of starting a new run, so the same
message ids are used and nothing is sent twice.

A run whose remaining messages wait for their send time (quiet hours, a provider's long
Retry-After) ends `deferred` with its next due time instead of holding the activation: a
periodic pass (`deliver_due`, driven by a Dagster sensor) delivers what has come due, under
the same activation lock, so a pass and a run never deliver at the same time. A new trigger
meanwhile plans as usual: members the deferred run enqueued are already in the snapshot, so
they are not planned again; a profile the new run does plan again (its row changed) gets the
new message and the older one still waiting is cancelled as superseded. Frequency caps hold
across both: the plan counts waiting messages, and the final gate claims a cap slot at send.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from activation.anomalies import Anomaly, anomaly_hold_reason, flagged_anomalies
from activation.catalog import get_activation
from activation.definition import ActivationDefinition, Mode
from activation.deliver import DeliveryReport, Renderer, RetryPolicy, deliver
from activation.delivery_shares import ShareLauncher
from activation.experiments.bandit import decide_wave
from activation.mirror import mirror_run
from activation.plan import PlanSummary, plan_run
from activation.segments import Segment, discover_segments
from activation.warehouse_tables import SCHEMA
from connectors.destinations.base import Destination
from connectors.destinations.message import OutboundMessage
from connectors.ops_store.anomaly_holds import approve_holds, approved_anomalies, record_holds
from connectors.ops_store.audit import record_audit
from connectors.ops_store.delivery_models import (
    ActivationRun,
    MessageState,
    RunStatus,
)
from connectors.ops_store.engine import write_transaction
from connectors.ops_store.models import ImmediateSuppression
from connectors.ops_store.outbox import (
    PARTITIONS,
    ClaimedMessage,
    FrequencyRule,
    enqueue_messages,
    next_due,
    partition_of,
    recover_interrupted,
    state_counts,
    supersede_waiting,
)
from connectors.ops_store.rate_buckets import SharedTokenBucket
from connectors.ops_store.runs import (
    acquire_activation_lock,
    awaiting_approval,
    create_run,
    deferred_runs,
    release_activation_lock,
    retarget_lock,
    set_run_status,
    this_holder,
    unfinished_run,
)
from connectors.ops_store.suppressions import ERASED_REASON
from connectors.warehouse.base import Warehouse

log = logging.getLogger(__name__)

ENQUEUE_BATCH = 10_000
SAMPLE_SIZE = 3


class ActivationRunError(RuntimeError):
    """A run that cannot proceed; the message says why and nothing unsafe happened."""


@dataclass
class RunReport:
    """What a run (or dry run) did, for the CLI, the API and Dagster metadata."""

    run_id: str
    activation: str
    kind: str
    status: str
    reason: str | None = None
    plan: PlanSummary | None = None
    delivery: DeliveryReport | None = None
    counts: dict[str, int] = field(default_factory=dict)
    samples: list[OutboundMessage] = field(default_factory=list)
    next_due_at: datetime | None = None  # a deferred run: when its next message comes due


@dataclass(frozen=True)
class DeferredRun:
    """A run waiting for its messages' send times, and when the earliest comes due."""

    run_id: str
    activation: str
    next_due_at: datetime | None  # None: nothing waits any more (the next pass completes it)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def exceeds_limits(definition: ActivationDefinition, plan: PlanSummary) -> str | None:
    """Why a plan must wait for approval, or None when it may go ahead."""
    limits = definition.limits
    size = plan.change_size
    if limits.max_change is not None and size > limits.max_change:
        return f"the plan changes {size:,} members, more than max_change {limits.max_change:,}"
    if limits.max_change_ratio is not None and plan.snapshot > 0:
        ratio = size / plan.snapshot
        if ratio > limits.max_change_ratio:
            return (
                f"the plan changes {ratio:.0%} of the {plan.snapshot:,} members already "
                f"delivered, more than max_change_ratio {limits.max_change_ratio:.0%}"
            )
    return None


class ActivationEngine:
    """The engine's entry point, independent of CLI, API and Dagster."""

    def __init__(
        self,
        *,
        warehouse: Warehouse,
        sessions: sessionmaker[Session],
        manifest: Callable[[], dict[str, Any]],
        destination_for: Callable[[ActivationDefinition], Destination],
        renderer_for: Callable[[ActivationDefinition], Renderer],
        clock: Callable[[], datetime] = _utc_now,
        policy: RetryPolicy | None = None,
        share_launcher: ShareLauncher | None = None,
    ) -> None:
        self.warehouse = warehouse
        self.sessions = sessions
        self.manifest = manifest
        self.destination_for = destination_for
        self.renderer_for = renderer_for
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.share_launcher = share_launcher

    # -- lookups -------------------------------------------------------------------------

    def definition(self, name: str) -> tuple[ActivationDefinition, Segment]:
        manifest = self.manifest()
        with self.sessions() as session:
            definition = get_activation(name, manifest, session)
        segments = {s.name: s for s in discover_segments(manifest)}
        segment = segments.get(definition.segment)
        if segment is None:
            raise ActivationRunError(
                f"activation {name!r} targets segment {definition.segment!r}, which the dbt "
                f"project does not define (known: {', '.join(sorted(segments)) or 'none'})"
            )
        return definition, segment

    # -- runs ----------------------------------------------------------------------------

    def _prepare(
        self, name: str, run_id: str | None
    ) -> tuple[ActivationDefinition, Segment, str, datetime]:
        """Look the activation up and compile its template: a broken one fails before any run."""
        definition, segment = self.definition(name)
        self.renderer_for(definition)
        return definition, segment, run_id or uuid.uuid4().hex, self.clock()

    def dry_run(self, name: str, *, requested_by: str, run_id: str | None = None) -> RunReport:
        """Plan and record, send nothing: counts, exclusions by reason, rendered samples."""
        definition, segment, run_id, now = self._prepare(name, run_id)
        with write_transaction(self.sessions) as session:
            create_run(
                session,
                run_id=run_id,
                activation=name,
                kind="dry_run",
                requested_by=requested_by,
                now=now,
            )
        plan = self._plan(definition, segment, run_id, now, dry=True)
        with write_transaction(self.sessions) as session:
            set_run_status(session, run_id, RunStatus.PLANNED, self.clock(), plan=self._doc(plan))
        mirror_run(self.sessions, self.warehouse, run_id)
        return RunReport(
            run_id,
            name,
            "dry_run",
            RunStatus.PLANNED.value,
            plan=plan,
            samples=self.samples(definition, run_id),
        )

    def run(
        self, name: str, *, requested_by: str, run_id: str | None = None, workers: int = 1
    ) -> RunReport:
        """Run (or resume) the activation; a concurrent trigger is recorded as skipped.

        `workers` > 1 delivers with that many worker processes, each owning a share of the
        outbox's partitions (see `delivery_shares.py`), sharing the destination's rate limit.
        """
        _check_workers(workers, self.share_launcher)
        definition, segment, run_id, now = self._prepare(name, run_id)
        with write_transaction(self.sessions) as session:
            lock = acquire_activation_lock(session, name, run_id, now)
        with self.sessions() as session:
            held = awaiting_approval(session, name) if lock.acquired else None
        if held is not None:
            with write_transaction(self.sessions) as session:
                release_activation_lock(session, name)
        if not lock.acquired or held is not None:
            reason = (
                f"run {held.run_id} of {name} awaits approval"
                if held is not None
                else f"run {lock.holder_run_id} of {name} is in progress"
            )
            with write_transaction(self.sessions) as session:
                create_run(
                    session,
                    run_id=run_id,
                    activation=name,
                    kind="run",
                    requested_by=requested_by,
                    now=now,
                    status=RunStatus.SKIPPED,
                    reason=reason,
                )
            mirror_run(self.sessions, self.warehouse, run_id)
            return RunReport(run_id, name, "run", RunStatus.SKIPPED.value, reason=reason)
        try:
            run_id = self._current_run(name, run_id, requested_by, now)
            return self._carry_on(definition, segment, run_id, workers)
        finally:
            with write_transaction(self.sessions) as session:
                release_activation_lock(session, name)

    def approve(self, run_id: str, *, actor: str) -> RunReport:
        """Release a run held by its size limit or an anomaly: enqueue its stored plan and
        deliver it."""
        with self.sessions() as session:
            run = session.get(ActivationRun, run_id)
            if run is None:
                raise ActivationRunError(f"no activation run {run_id!r}")
            if run.status is not RunStatus.AWAITING_APPROVAL:
                raise ActivationRunError(
                    f"run {run_id} is {run.status.value}; only a run awaiting approval "
                    "can be approved"
                )
            name = run.activation
        definition, segment = self.definition(name)
        now = self.clock()
        with write_transaction(self.sessions) as session:
            lock = acquire_activation_lock(session, name, run_id, now)
            if not lock.acquired:
                raise ActivationRunError(f"run {lock.holder_run_id} of {name} is in progress")
            set_run_status(session, run_id, RunStatus.ENQUEUED, now, reason=f"approved by {actor}")
            anomalies = approve_holds(session, run_id, actor=actor, now=now)
            record_audit(
                session,
                actor=actor,
                action="activation_run.approve",
                resource_type="activation_run",
                resource_id=run_id,
                before={"status": RunStatus.AWAITING_APPROVAL.value},
                after={"status": RunStatus.ENQUEUED.value, "approved_anomalies": anomalies},
            )
        try:
            self._enqueue(definition, segment, run_id)
            return self._carry_on(definition, segment, run_id)
        finally:
            with write_transaction(self.sessions) as session:
                release_activation_lock(session, name)

    # -- steps ---------------------------------------------------------------------------

    def _current_run(self, name: str, run_id: str, requested_by: str, now: datetime) -> str:
        """Resume the activation's unfinished run if there is one, else start `run_id`."""
        with write_transaction(self.sessions) as session:
            unfinished = unfinished_run(session, name)
            if unfinished is not None:
                retarget_lock(session, name, unfinished.run_id, now)
                return unfinished.run_id
            create_run(
                session,
                run_id=run_id,
                activation=name,
                kind="run",
                requested_by=requested_by,
                now=now,
            )
        return run_id

    def _status(self, run_id: str) -> RunStatus:
        with self.sessions() as session:
            run = session.get(ActivationRun, run_id)
            assert run is not None
            return run.status

    def _carry_on(
        self, definition: ActivationDefinition, segment: Segment, run_id: str, workers: int = 1
    ) -> RunReport:
        plan: PlanSummary | None = None
        if self._status(run_id) is RunStatus.PLANNING:
            plan = self._plan(definition, segment, run_id, self.clock())
            anomalies = self._unapproved_anomalies(definition)
            held = self._hold_reason(definition, plan, anomalies)
            with write_transaction(self.sessions) as session:
                status = RunStatus.AWAITING_APPROVAL if held else RunStatus.ENQUEUED
                now = self.clock()
                set_run_status(session, run_id, status, now, reason=held, plan=self._doc(plan))
                if held:
                    record_holds(
                        session,
                        run_id=run_id,
                        activation=definition.name,
                        anomalies=[(a.key, a.description) for a in anomalies],
                        now=now,
                    )
            if held:
                mirror_run(self.sessions, self.warehouse, run_id)
                return RunReport(
                    run_id, definition.name, "run", status.value, reason=held, plan=plan
                )
            self._enqueue(definition, segment, run_id)
        delivery = self._deliver(definition, run_id, workers)
        mirror_run(self.sessions, self.warehouse, run_id)
        return self._report(run_id, delivery=delivery, plan=plan)

    def _unapproved_anomalies(self, definition: ActivationDefinition) -> list[Anomaly]:
        """The flagged points the run is over that no approval of this activation covers."""
        with self.sessions() as session:
            approved = approved_anomalies(session, definition.name)
        return flagged_anomalies(self.warehouse, definition, approved=approved)

    def _hold_reason(
        self, definition: ActivationDefinition, plan: PlanSummary, anomalies: list[Anomaly]
    ) -> str | None:
        """Why the planned run must wait for approval: its size limit, anomalous data, both."""
        reasons = [exceeds_limits(definition, plan), anomaly_hold_reason(anomalies)]
        return "; ".join(reason for reason in reasons if reason) or None

    def _report(
        self,
        run_id: str,
        *,
        delivery: DeliveryReport | None = None,
        plan: PlanSummary | None = None,
        reason: str | None = None,
    ) -> RunReport:
        """The run as the ops store has it now: status, counts, plan and next due time."""
        with self.sessions() as session:
            run = session.get(ActivationRun, run_id)
            assert run is not None
            counts = state_counts(session, run_id)
            if plan is None and run.plan:
                plan = PlanSummary(**{k: v for k, v in run.plan.items() if k != "mode"})
            due = next_due(session, run_id) if run.status is RunStatus.DEFERRED else None
            return RunReport(
                run_id,
                run.activation,
                run.kind,
                run.status.value,
                reason=reason or run.status_reason,
                plan=plan,
                delivery=delivery,
                counts=counts,
                next_due_at=due,
            )

    # -- deferred runs -------------------------------------------------------------------

    def deferred(self) -> list[DeferredRun]:
        """Every deferred run with its next due time, for the periodic pass to pick from."""
        with self.sessions() as session:
            return [
                DeferredRun(run.run_id, run.activation, next_due(session, run.run_id))
                for run in deferred_runs(session)
            ]

    def due(self) -> list[DeferredRun]:
        """The deferred runs that have a message due now (or nothing left to wait for)."""
        now = self.clock()
        return [r for r in self.deferred() if r.next_due_at is None or r.next_due_at <= now]

    def deliver_due(self, run_id: str) -> RunReport:
        """Deliver a deferred run's messages that have come due; never plans anything.

        Holds the activation's lock like a run does, so it never delivers alongside a run or
        another pass; when the lock is taken the run is left as it is, for the next pass.
        """
        with self.sessions() as session:
            run = session.get(ActivationRun, run_id)
            if run is None:
                raise ActivationRunError(f"no activation run {run_id!r}")
            name = run.activation
        definition, _segment = self.definition(name)
        with write_transaction(self.sessions) as session:
            lock = acquire_activation_lock(session, name, run_id, self.clock())
        if not lock.acquired:
            return self._report(
                run_id,
                reason=f"run {lock.holder_run_id} of {name} is in progress; "
                "the due messages wait for the next pass",
            )
        try:
            if self._status(run_id) is not RunStatus.DEFERRED:
                return self._report(run_id)  # another pass finished it meanwhile
            delivery = self._deliver(definition, run_id)
            mirror_run(self.sessions, self.warehouse, run_id)
            return self._report(run_id, delivery=delivery)
        finally:
            with write_transaction(self.sessions) as session:
                release_activation_lock(session, name)

    def _plan(
        self,
        definition: ActivationDefinition,
        segment: Segment,
        run_id: str,
        now: datetime,
        *,
        dry: bool = False,
    ) -> PlanSummary:
        """Plan the run; a bandit experiment's wave is decided (and, unless dry, recorded)."""
        definition, wave_cap = decide_wave(
            self.sessions, self.warehouse, definition, run_id=run_id, now=now, record=not dry
        )
        with self.sessions() as session:
            rows = session.execute(
                select(
                    ImmediateSuppression.channel,
                    ImmediateSuppression.address_hash,
                    ImmediateSuppression.reason,
                )
            ).all()
        suppressions = [(str(channel), address_hash) for channel, address_hash, _ in rows]
        erased = [(str(c), h) for c, h, reason in rows if reason == ERASED_REASON]
        return plan_run(
            self.warehouse,
            definition,
            segment,
            run_id=run_id,
            now=_naive(now),
            immediate_suppressions=suppressions,
            erased_addresses=erased,
            wave_cap=wave_cap,
        )

    @staticmethod
    def _doc(plan: PlanSummary) -> dict[str, Any]:
        return asdict(plan)

    def _enqueue(self, definition: ActivationDefinition, segment: Segment, run_id: str) -> None:
        """Copy the stored plan into the outbox, then record its members in the snapshot.

        Messages of the activation's deferred runs still waiting for a profile planned again
        are cancelled in the same transaction as the newer message's insert.
        """
        now = self.clock()
        with self.sessions() as session:
            supersedes = any(r.run_id != run_id for r in deferred_runs(session, definition.name))
        with self.warehouse.session() as wh:
            batches = wh.query_batches(
                f"select message_id, profile_id, change, address, variant, send_after, "
                f"attributes from {SCHEMA}.planned_messages where run_id = ? "
                f"order by message_id",
                [run_id],
                batch_rows=ENQUEUE_BATCH,
            )
            for batch in batches:
                rows = [
                    {
                        "message_id": r["message_id"],
                        "run_id": run_id,
                        "activation": definition.name,
                        "profile_id": r["profile_id"],
                        "channel": definition.channel.value,
                        "address": r["address"],
                        "variant": r["variant"],
                        "change": r["change"],
                        "attributes": r["attributes"],
                        "partition": partition_of(r["message_id"]),
                        "state": MessageState.PLANNED,
                        "attempts": 0,
                        "send_after": r["send_after"].replace(tzinfo=UTC),
                        "next_attempt_at": r["send_after"].replace(tzinfo=UTC),
                        "planned_at": now,
                        "updated_at": now,
                    }
                    for r in batch.to_pylist()
                ]
                with write_transaction(self.sessions) as session:
                    enqueue_messages(session, rows)
                    if supersedes:
                        supersede_waiting(
                            session,
                            activation=definition.name,
                            channel=definition.channel.value,
                            run_id=run_id,
                            profile_ids=[r["profile_id"] for r in rows],
                            now=now,
                        )
            self._update_snapshot(wh, definition, segment, run_id, now)

    def _update_snapshot(
        self,
        wh: Any,
        definition: ActivationDefinition,
        segment: Segment,
        run_id: str,
        now: datetime,
    ) -> None:
        params = {"activation": definition.name, "run_id": run_id, "now": _naive(now)}
        wh.begin()
        try:
            wh.execute(
                f"delete from {SCHEMA}.activation_snapshots where activation = $activation "
                f"and profile_id in (select profile_id from {SCHEMA}.planned_messages "
                f"where run_id = $run_id)",
                params,
            )
            wh.execute(
                f"insert into {SCHEMA}.activation_snapshots select $activation, profile_id, "
                f"row_hash, $now from {SCHEMA}.planned_messages where run_id = $run_id",
                params,
            )
            if definition.mode is Mode.MIRROR:
                wh.execute(
                    f"delete from {SCHEMA}.activation_snapshots where activation = $activation "
                    f"and profile_id not in (select profile_id from {segment.relation})",
                    {"activation": definition.name},
                )
            wh.commit()
        except BaseException:
            wh.rollback()
            raise

    def _deliver(
        self, definition: ActivationDefinition, run_id: str, workers: int = 1
    ) -> DeliveryReport:
        """Deliver the run (with `workers` processes), then set its status: here, once.

        With several workers this process waits for every one of them, turns what a dead
        worker left `sending` into `in_doubt`, and sweeps what is still due (a dead worker's
        share, retries) itself, before it counts: so no worker ever finalizes the run, and the
        run is never finalized while a worker may still be sending.
        """
        now = self.clock()
        with write_transaction(self.sessions) as session:
            recover_interrupted(session, run_id, now)
            set_run_status(session, run_id, RunStatus.DELIVERING, now)
        started = time.perf_counter()
        report = DeliveryReport()
        if workers > 1:
            assert self.share_launcher is not None  # checked before the run started
            for share in self.share_launcher(run_id, workers):
                report.counts.update(share.counts)
                report.stopped_by = report.stopped_by or share.stopped_by
            with write_transaction(self.sessions) as session:
                recover_interrupted(session, run_id, self.clock())
        if not report.stopped_by:
            sweep = self._deliver_pass(definition, run_id, shared=workers > 1)
            report.counts.update(sweep.counts)
            report.batches += sweep.batches
            report.stopped_by = sweep.stopped_by
        report.seconds = time.perf_counter() - started
        with write_transaction(self.sessions) as session:
            waiting = state_counts(session, run_id).get("planned", 0)
            if report.stopped_by:
                set_run_status(
                    session, run_id, RunStatus.FAILED, self.clock(), reason=report.stopped_by
                )
            elif waiting == 0:
                set_run_status(session, run_id, RunStatus.COMPLETED, self.clock())
            else:
                due = next_due(session, run_id)
                set_run_status(
                    session,
                    run_id,
                    RunStatus.DEFERRED,
                    self.clock(),
                    reason=f"{waiting} messages wait for their send time; the next is due "
                    f"at {due:%Y-%m-%d %H:%M:%S} UTC"
                    if due is not None
                    else f"{waiting} messages wait for their send time",
                )
        return report

    def deliver_share(self, run_id: str, index: int, count: int) -> DeliveryReport:
        """One worker's part of a run: the outbox partitions `p % count == index`.

        Only a run that is delivering may be worked on (its lock holder started the workers);
        the worker never changes the run's status, its lock holder does once all are done.
        """
        if not 0 <= index < count <= PARTITIONS:
            raise ActivationRunError(
                f"worker {index} of {count} does not exist: use 0 <= index < count <= "
                f"{PARTITIONS} (the outbox's partitions)"
            )
        with self.sessions() as session:
            run = session.get(ActivationRun, run_id)
            if run is None:
                raise ActivationRunError(f"no activation run {run_id!r}")
            status, name = run.status, run.activation
        if status is not RunStatus.DELIVERING:
            raise ActivationRunError(
                f"run {run_id} is {status.value}; workers deliver only a run that is delivering"
            )
        definition, _segment = self.definition(name)
        return self._deliver_pass(definition, run_id, shared=True, partitions=(index, count))

    def _deliver_pass(
        self,
        definition: ActivationDefinition,
        run_id: str,
        *,
        shared: bool,
        partitions: tuple[int, int] | None = None,
    ) -> DeliveryReport:
        """Deliver what is due in `partitions` (all by default), as this process."""
        with self._destination(definition, shared=shared) as destination:
            return deliver(
                self.sessions,
                run_id,
                destination,
                self.renderer_for(definition),
                worker=this_holder(),
                frequency=_frequency(definition),
                policy=self.policy,
                partitions=partitions,
                clock=self.clock,
            )

    @contextmanager
    def _destination(
        self, definition: ActivationDefinition, *, shared: bool
    ) -> Iterator[Destination]:
        """The activation's destination; `shared`: paced by its bucket in the ops store, which
        every worker of every run sending through this destination takes its tokens from."""
        destination = self.destination_for(definition)
        bucket = None
        if shared:
            bucket = SharedTokenBucket(
                self.sessions,
                f"destination:{definition.destination}",
                destination.rate_limiter.rate_per_s,
                destination.rate_limiter.burst,
            )
            destination.rate_limiter = bucket
        try:
            with destination:
                yield destination
        finally:
            if bucket is not None:
                bucket.close()

    def samples(self, definition: ActivationDefinition, run_id: str) -> list[OutboundMessage]:
        """A few of the run's planned messages, rendered as recipients would get them."""
        rows = self.warehouse.query_arrow(
            f"select message_id, profile_id, address, variant, attributes "
            f"from {SCHEMA}.planned_messages where run_id = ? order by message_id limit ?",
            [run_id, SAMPLE_SIZE],
        ).to_pylist()
        claimed = [
            ClaimedMessage(
                r["message_id"],
                r["profile_id"],
                definition.channel.value,
                r["address"],
                r["variant"],
                r["attributes"],
                0,
            )
            for r in rows
        ]
        rendered, _failures = self.renderer_for(definition)(claimed)
        return rendered


def _frequency(definition: ActivationDefinition) -> FrequencyRule | None:
    cap = definition.frequency_cap
    if cap is None:
        return None
    return FrequencyRule(cap.max_messages, timedelta(hours=cap.window_hours))


def _check_workers(workers: int, launcher: ShareLauncher | None) -> None:
    if not 1 <= workers <= PARTITIONS:
        raise ActivationRunError(
            f"workers must be between 1 and {PARTITIONS} (the outbox's partitions), got {workers}"
        )
    if workers > 1 and launcher is None:
        raise ActivationRunError(
            "this engine has no way to start delivery workers (no share_launcher); "
            "run with one worker"
        )
