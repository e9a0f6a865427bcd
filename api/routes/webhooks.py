"""Provider webhooks: SES (through SNS) and the SendGrid Event Webhook.

No bearer token here: the provider's signature is the authentication, checked over the exact
bytes received before anything is believed (`activation.feedback`). A notification that
fails verification is refused (403) and nothing is landed. A verified one is parsed and its
events land as one `message_events` batch file, durably, before the 2xx: a provider that
gets no 2xx retries, so nothing acknowledged is ever lost. Paths sit outside `/api/v1`
(`/webhooks/ses`, `/webhooks/sendgrid`) because they answer to providers, not API clients.

Network edges are dependencies, so tests can serve them: the SNS certificate fetch, the SNS
subscription confirmation GET, and the clock (the real fixtures were signed years ago).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from activation.feedback import (
    CertificateLoader,
    CertificateUnavailableError,
    FeedbackParseError,
    HttpsCertificateLoader,
    SignatureVerificationError,
    land_feedback,
    parse_sendgrid_events,
    parse_ses_sns_message,
    subscribe_url,
    subscription_arn_from_confirmation,
    verify_sendgrid_signature,
    verify_sns_message,
)
from activation.feedback.sendgrid import SIGNATURE_HEADER, TIMESTAMP_HEADER
from activation.feedback.sns import (
    NOTIFICATION,
    SUBSCRIPTION_CONFIRMATION,
    UNSUBSCRIBE_CONFIRMATION,
)
from api.landing import Landing
from api.request_body import parse_json, read_body
from api.state import State
from connectors.landing import LandingZone
from connectors.ops_store import record_audit

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
"""SNS messages are at most 256 KiB; SendGrid batches are well under 1 MiB."""
WEBHOOK_ACTOR = "webhook"

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

SubscriptionConfirmer = Callable[[str], str]
"""GETs a verified SubscribeURL and returns the SubscriptionArn from SNS's answer."""

_certificates: HttpsCertificateLoader | None = None
_certificates_lock = threading.Lock()


def sns_certificate_loader() -> CertificateLoader:
    """FastAPI dependency: the process's caching https loader for SNS signing certificates."""
    global _certificates
    with _certificates_lock:
        if _certificates is None:
            _certificates = HttpsCertificateLoader()
        return _certificates


def confirm_subscription(url: str) -> str:
    """Confirm an SNS subscription the way AWS documents it: one GET of the SubscribeURL."""
    try:
        response = httpx.get(url, timeout=10.0, follow_redirects=False)
    except httpx.HTTPError as error:
        raise CertificateUnavailableError(
            f"could not reach SNS to confirm the subscription: {type(error).__name__}"
        ) from error
    if response.status_code != httpx.codes.OK:
        raise CertificateUnavailableError(
            f"SNS answered HTTP {response.status_code} to the subscription confirmation"
        )
    return subscription_arn_from_confirmation(response.content)


def sns_subscription_confirmer() -> SubscriptionConfirmer:
    """FastAPI dependency: how a verified SubscriptionConfirmation is confirmed."""
    return confirm_subscription


def webhook_clock() -> datetime:
    """FastAPI dependency: now (aware UTC), for certificate validity and replay windows."""
    return datetime.now(UTC)


class WebhookResult(BaseModel):
    """What a notification became: how many events landed (in which file), what was refused."""

    landed: int
    landing_key: str | None = None
    rejected: list[dict[str, Any]] = []
    subscription_arn: str | None = None


def _refused(error: Exception) -> HTTPException:
    if isinstance(error, SignatureVerificationError):
        return HTTPException(status.HTTP_403_FORBIDDEN, f"signature not verified: {error}")
    if isinstance(error, CertificateUnavailableError):
        return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{error}; retry later")
    return HTTPException(status.HTTP_400_BAD_REQUEST, str(error))


def _handle_sns(
    message: Any,
    state: State,
    landing: LandingZone,
    certificates: CertificateLoader,
    confirmer: SubscriptionConfirmer,
    now: datetime,
) -> WebhookResult:
    if not state.settings.ses_sns_topic_arns:
        raise SignatureVerificationError(
            "no SNS topic is configured (TIDEMARK_SES_SNS_TOPIC_ARNS); every topic is refused"
        )
    verify_sns_message(
        message,
        certificate_loader=certificates,
        allowed_topic_arns=state.settings.ses_sns_topic_arns,
        now=now,
    )
    kind = message["Type"]
    if kind == SUBSCRIPTION_CONFIRMATION:
        arn = confirmer(subscribe_url(message))
        with state.sessions.begin() as session:
            record_audit(
                session,
                actor=WEBHOOK_ACTOR,
                action="sns.subscription.confirm",
                resource_type="sns_topic",
                resource_id=message["TopicArn"],
                before=None,
                after={"subscription_arn": arn},
            )
        return WebhookResult(landed=0, subscription_arn=arn)
    if kind == UNSUBSCRIBE_CONFIRMATION:
        log.warning("SNS topic %s unsubscribed this endpoint", message["TopicArn"])
        return WebhookResult(landed=0)
    assert kind == NOTIFICATION  # verify_sns_message admits only the three types
    events = parse_ses_sns_message(message)
    landed = land_feedback(landing, events)
    return WebhookResult(landed=len(events), landing_key=landed.key if landed else None)


@router.post("/ses", summary="Amazon SES feedback delivered by SNS (signature-verified)")
async def ses_webhook(
    request: Request,
    state: State,
    landing: Landing,
    certificates: Annotated[CertificateLoader, Depends(sns_certificate_loader)],
    confirmer: Annotated[SubscriptionConfirmer, Depends(sns_subscription_confirmer)],
    now: Annotated[datetime, Depends(webhook_clock)],
) -> WebhookResult:
    """Verify the SNS message, confirm a subscription or land the SES events it carries."""
    message = parse_json(await read_body(request, MAX_BODY_BYTES))
    try:
        return await run_in_threadpool(
            _handle_sns, message, state, landing, certificates, confirmer, now
        )
    except (
        SignatureVerificationError,
        CertificateUnavailableError,
        FeedbackParseError,
    ) as error:
        raise _refused(error) from None


def _handle_sendgrid(
    body: bytes, signature: str, timestamp: str, state: State, landing: LandingZone, now: datetime
) -> WebhookResult:
    key = state.settings.sendgrid_webhook_public_key
    if not key:
        raise SignatureVerificationError(
            "no SendGrid verification key is configured (TIDEMARK_SENDGRID_WEBHOOK_PUBLIC_KEY)"
        )
    verify_sendgrid_signature(key, body, signature, timestamp, now=now)
    batch = parse_sendgrid_events(body)
    for item in batch.rejected:
        log.warning("SendGrid event %d refused: %s", item.index, item.reason)
    landed = land_feedback(landing, batch.events)
    return WebhookResult(
        landed=len(batch.events),
        landing_key=landed.key if landed else None,
        rejected=[{"index": r.index, "reason": r.reason} for r in batch.rejected],
    )


@router.post("/sendgrid", summary="SendGrid Event Webhook (ECDSA-signed)")
async def sendgrid_webhook(
    request: Request,
    state: State,
    landing: Landing,
    now: Annotated[datetime, Depends(webhook_clock)],
) -> WebhookResult:
    """Verify the batch's signature and land its readable events; unreadable ones are listed.

    SendGrid does not resend a batch it got a 2xx for, so readable events are landed even
    when others in the batch are not, and the refused ones are named in the answer and log.
    """
    body = await read_body(request, MAX_BODY_BYTES)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    try:
        return await run_in_threadpool(
            _handle_sendgrid, body, signature, timestamp, state, landing, now
        )
    except (SignatureVerificationError, FeedbackParseError) as error:
        raise _refused(error) from None
