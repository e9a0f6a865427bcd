"""Deliver a run's outbox: claim due messages, render, send, record — batch after batch.

Retries come only from the destination's error classification: a retriable failure goes
back to `planned` with a later `next_attempt_at` (the provider's Retry-After when it gave
one, else exponential backoff), up to `max_attempts`; a message-fatal one fails; an
in-doubt one is parked for reconciliation; a run-fatal one (bad credentials) stops the run
with every unsent message still `planned`, to be sent once the cause is fixed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.destinations.base import Destination, FatalRunError
from connectors.destinations.message import ErrorClass, OutboundMessage, SendOutcome, SendStatus
from connectors.ops_store.delivery_models import MessageState, OutboxMessage
from connectors.ops_store.engine import write_transaction
from connectors.ops_store.outbox import (
    ClaimedMessage,
    FrequencyRule,
    Outcome,
    claim_due,
    record_outcomes,
)

log = logging.getLogger(__name__)


class Renderer(Protocol):
    """Turns claimed messages into provider-ready ones; failures are per message."""

    def __call__(
        self, messages: list[ClaimedMessage]
    ) -> tuple[list[OutboundMessage], dict[str, str]]: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 2.0
    max_delay_s: float = 900.0

    def delay(self, attempts: int, retry_after_s: float | None) -> float:
        backoff = min(self.max_delay_s, self.base_delay_s * 2.0 ** max(0, attempts - 1))
        return float(max(backoff, retry_after_s or 0.0))


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    counts: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    seconds: float = 0.0
    stopped_by: str | None = None  # a run-fatal error's message


def _utc_now() -> datetime:
    return datetime.now(UTC)


def outcome_for(
    sent: SendOutcome, attempts: int, policy: RetryPolicy, provider: str, now: datetime
) -> Outcome:
    """The ledger's decision for one provider answer: the error table, applied."""
    if sent.status is SendStatus.SENT:
        return Outcome(
            sent.message_id,
            MessageState.SENT,
            provider=provider,
            provider_message_id=sent.provider_message_id,
        )
    error_class = sent.error_class or ErrorClass.FATAL_MESSAGE
    state = MessageState.FAILED
    retry_at = None
    message = sent.error_message
    if error_class is ErrorClass.IN_DOUBT:
        state = MessageState.IN_DOUBT
    elif error_class is ErrorClass.RETRIABLE and attempts >= policy.max_attempts:
        message = f"gave up after {attempts} attempts: {sent.error_message}"
    elif error_class in (ErrorClass.RETRIABLE, ErrorClass.FATAL_RUN):
        # Not sent: it goes back to the queue (a run-fatal stop leaves it for the next run).
        state = MessageState.PLANNED
        retry_at = now + timedelta(seconds=policy.delay(attempts, sent.retry_after_s))
    return Outcome(
        sent.message_id,
        state,
        provider=provider,
        error_class=error_class.value,
        error_code=sent.error_code,
        error_message=message,
        retry_at=retry_at,
    )


def deliver(
    sessions: sessionmaker[Session],
    run_id: str,
    destination: Destination,
    render: Renderer,
    *,
    worker: str,
    frequency: FrequencyRule | None,
    policy: RetryPolicy = RetryPolicy(),
    partitions: tuple[int, int] | None = None,
    clock: Callable[[], datetime] = _utc_now,
    wait_for_retries_s: float = 60.0,
    on_batch: Callable[[Counter[str]], None] | None = None,
) -> DeliveryReport:
    """Deliver every due message of a run; returns when none is due (or soon due)."""
    started = time.perf_counter()
    report = DeliveryReport()
    while True:
        now = clock()
        with write_transaction(sessions) as session:
            claim = claim_due(
                session,
                run_id,
                limit=destination.batch_size,
                now=now,
                worker=worker,
                frequency=frequency,
                partitions=partitions,
            )
        report.counts["excluded"] += len(claim.excluded)
        if not claim.messages:
            if claim.excluded:
                continue
            wait = _seconds_until_next_retry(sessions, run_id, now, partitions)
            if wait is None or wait > wait_for_retries_s:
                break
            time.sleep(max(wait, 0.01))  # the provider asked us to wait this long
            continue
        outcomes = _send(claim.messages, destination, render, policy, now, report)
        with write_transaction(sessions) as session:
            record_outcomes(session, outcomes, clock())
        for outcome in outcomes:
            report.counts[
                outcome.state.value if outcome.state is not MessageState.PLANNED else "retried"
            ] += 1
        report.batches += 1
        if on_batch is not None:
            on_batch(report.counts)
        if report.stopped_by:
            break
    report.seconds = time.perf_counter() - started
    return report


def _send(
    claimed: list[ClaimedMessage],
    destination: Destination,
    render: Renderer,
    policy: RetryPolicy,
    now: datetime,
    report: DeliveryReport,
) -> list[Outcome]:
    attempts = {m.message_id: m.attempts for m in claimed}
    rendered, render_failures = render(claimed)
    outcomes = [
        Outcome(mid, MessageState.FAILED, error_class="render", error_message=reason)
        for mid, reason in render_failures.items()
    ]
    if not rendered:
        return outcomes
    try:
        answers = destination.send_batch(rendered)
    except FatalRunError as stop:
        report.stopped_by = str(stop)
        log.error("run stopped by its destination: %s", stop)
        decided = {o.message_id: o for o in stop.outcomes}
        answers = [
            decided.get(m.message_id)
            or SendOutcome.failed(m.message_id, ErrorClass.FATAL_RUN, message=str(stop))
            for m in rendered
        ]
    outcomes += [
        outcome_for(answer, attempts[answer.message_id], policy, destination.kind, now)
        for answer in answers
    ]
    return outcomes


def _seconds_until_next_retry(
    sessions: sessionmaker[Session],
    run_id: str,
    now: datetime,
    partitions: tuple[int, int] | None,
) -> float | None:
    """When this worker's next message comes due; only its own partitions count, or it
    would wait on messages another worker (or the final sweep) will send."""
    query = select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.run_id == run_id,
        OutboxMessage.state == MessageState.PLANNED,
    )
    if partitions is not None:
        index, count = partitions
        query = query.where(OutboxMessage.partition % count == index)
    with sessions() as session:
        earliest = session.scalar(query)
    if earliest is None:
        return None
    return (earliest - now).total_seconds()
