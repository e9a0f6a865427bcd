"""How provider answers and transport failures are handled: one table per protocol.

Every failure a destination meets is turned into a `Failure` here and nowhere else:

- RETRIABLE: try later (throttling, 5xx, a provider we could not reach); `retry_after_s`
  carries the provider's own delay (Retry-After in seconds or as an HTTP date, SendGrid's
  X-RateLimit-Reset epoch) when it gave one;
- FATAL_MESSAGE: this message can never be sent as it is (invalid address, rejected content);
- FATAL_RUN: nothing can be sent (credentials rejected, account unusable): stop the run;
- IN_DOUBT: the request may have reached the provider and we do not know the answer (a read
  timeout after the request was written, a connection lost after SMTP DATA). The engine never
  re-sends these automatically, so a lost answer never becomes a duplicate message.

`provider_wide` marks failures that say something about the provider rather than the message
(throttling, server errors, unreachable, lost answers): a destination talking to a single
provider stops its batch there instead of hammering it, and leaves the rest unattempted.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)

from connectors.destinations.message import ErrorClass

RETRIABLE = ErrorClass.RETRIABLE
FATAL_MESSAGE = ErrorClass.FATAL_MESSAGE
FATAL_RUN = ErrorClass.FATAL_RUN
IN_DOUBT = ErrorClass.IN_DOUBT


@dataclass(frozen=True)
class Failure:
    """A classified failure; `message` is raw and goes through the secret filter on its way out."""

    error_class: ErrorClass
    code: str
    message: str
    retry_after_s: float | None = None
    provider_wide: bool = False


# -- HTTP --------------------------------------------------------------------------------

HTTP_STATUS_TABLE: Mapping[int, ErrorClass] = {
    400: FATAL_MESSAGE,  # the request (for this message) is invalid, e.g. an invalid address
    401: FATAL_RUN,  # credentials rejected
    403: FATAL_RUN,  # credentials lack permission / sender not allowed
    404: FATAL_MESSAGE,
    408: RETRIABLE,  # the server timed out waiting for our request: it did not act on it
    409: FATAL_MESSAGE,
    410: FATAL_MESSAGE,
    413: FATAL_MESSAGE,
    422: FATAL_MESSAGE,
    425: RETRIABLE,
    429: RETRIABLE,
}
"""Explicit statuses; otherwise 3xx (never followed) and 4xx are FATAL_MESSAGE, 5xx RETRIABLE."""

_THROTTLE_STATUSES = frozenset({429})


def classify_http_status(
    status: int,
    detail: str,
    headers: Mapping[str, str] | None = None,
    *,
    now: float,
    overrides: Mapping[int, ErrorClass] | None = None,
) -> Failure:
    """Classify a non-2xx HTTP answer. `now` is epoch seconds (for dates in headers)."""
    table = {**HTTP_STATUS_TABLE, **(overrides or {})}
    if status in table:
        error_class = table[status]
    elif 300 <= status < 400:
        error_class = FATAL_MESSAGE  # redirects are never followed: the URL is wrong
        detail = f"redirect not followed: {detail}"
    elif status >= 500:
        error_class = RETRIABLE
    else:
        error_class = FATAL_MESSAGE
    retry_after = None
    if error_class is RETRIABLE:
        retry_after = retry_after_seconds(headers or {}, now=now, rate_limited=status == 429)
    return Failure(
        error_class,
        f"http_{status}",
        f"HTTP {status}: {detail}".strip(),
        retry_after_s=retry_after,
        provider_wide=status in _THROTTLE_STATUSES or status >= 500,
    )


def retry_after_seconds(
    headers: Mapping[str, str], *, now: float, rate_limited: bool = True
) -> float | None:
    """The provider's requested delay: Retry-After (seconds or HTTP date), else X-RateLimit-Reset.

    X-RateLimit-Reset (epoch seconds, SendGrid) is only a delay on a rate-limited answer; on
    others it merely says when the current window ends.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    raw = lowered.get("retry-after", "").strip()
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return max(0.0, moment.timestamp() - now)
    reset = lowered.get("x-ratelimit-reset", "").strip()
    if rate_limited and reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


def classify_http_transport_error(error: httpx.HTTPError) -> Failure:
    """A request that got no HTTP answer: was it never sent, or may it have been acted on?"""
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        # No connection, so no request: safe to send again.
        return Failure(RETRIABLE, "connect_failed", text, provider_wide=True)
    if isinstance(error, httpx.WriteError | httpx.WriteTimeout):
        # The request was not written whole, and no server acts on half a request.
        return Failure(RETRIABLE, "write_failed", text, provider_wide=True)
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return Failure(FATAL_MESSAGE, "invalid_url", text)
    if isinstance(error, httpx.TooManyRedirects):
        return Failure(FATAL_MESSAGE, "redirect", text)
    # Read timeouts, resets and disconnects after the request was written: the provider may
    # have accepted it. Unknown transport errors land here too: when unsure, in doubt.
    return Failure(
        IN_DOUBT,
        "no_answer",
        f"no answer after the request was sent: {text}",
        provider_wide=True,
    )


# -- SMTP --------------------------------------------------------------------------------

SMTP_REPLY_TABLE: Mapping[int, ErrorClass] = {
    421: RETRIABLE,  # service not available, closing the channel (often: slow down)
    450: RETRIABLE,  # mailbox unavailable (busy, greylisting)
    451: RETRIABLE,  # local error in processing
    452: RETRIABLE,  # insufficient storage / too many recipients for now
    454: RETRIABLE,  # TLS or auth temporarily unavailable
    530: FATAL_RUN,  # authentication required
    534: FATAL_RUN,  # authentication mechanism too weak
    535: FATAL_RUN,  # authentication credentials invalid
    538: FATAL_RUN,  # encryption required for the requested authentication
    550: FATAL_MESSAGE,  # mailbox unavailable / does not exist
    551: FATAL_MESSAGE,  # user not local
    552: FATAL_MESSAGE,  # exceeded storage allocation / message too big
    553: FATAL_MESSAGE,  # mailbox name not allowed
    554: FATAL_MESSAGE,  # transaction failed (rejected content)
}
"""Explicit replies; otherwise 4xx is RETRIABLE and 5xx FATAL_MESSAGE (RFC 5321 semantics)."""

_SMTP_PROVIDER_WIDE = frozenset({421, 454})


def classify_smtp_reply(code: int, text: str | bytes) -> Failure:
    """Classify a negative SMTP reply."""
    reply = text.decode(errors="replace") if isinstance(text, bytes) else text
    if code in SMTP_REPLY_TABLE:
        error_class = SMTP_REPLY_TABLE[code]
    elif 400 <= code < 500:
        error_class = RETRIABLE
    else:
        error_class = FATAL_MESSAGE
    return Failure(
        error_class,
        f"smtp_{code}",
        f"SMTP {code} {reply}".strip(),
        provider_wide=code in _SMTP_PROVIDER_WIDE,
    )


def classify_smtp_connection_loss(error: BaseException, *, message_transmitted: bool) -> Failure:
    """The connection failed mid-transaction.

    Before the end-of-data marker was written the server cannot have accepted the message;
    after it, the server may have queued it and only the reply was lost.
    """
    text = f"{type(error).__name__}: {error}"
    if message_transmitted:
        return Failure(
            IN_DOUBT,
            "smtp_no_reply",
            f"connection lost after the message was transmitted, before the reply: {text}",
            provider_wide=True,
        )
    return Failure(RETRIABLE, "smtp_disconnected", text, provider_wide=True)


def classify_smtp_connect_error(error: BaseException) -> Failure:
    """Opening the SMTP session failed: nothing was sent."""
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return Failure(FATAL_RUN, "smtp_tls_untrusted", text)
    if isinstance(error, socket.gaierror):
        return Failure(RETRIABLE, "smtp_host_unresolved", text, provider_wide=True)
    return Failure(RETRIABLE, "smtp_connect_failed", text, provider_wide=True)


# -- Amazon SES (sesv2 via botocore) -----------------------------------------------------

SES_ERROR_CODES: Mapping[str, ErrorClass] = {
    "Throttling": RETRIABLE,
    "ThrottlingException": RETRIABLE,
    "TooManyRequestsException": RETRIABLE,
    "LimitExceededException": RETRIABLE,  # daily quota or maximum send rate exceeded
    "ServiceUnavailable": RETRIABLE,
    "InternalFailure": RETRIABLE,
    "MessageRejected": FATAL_MESSAGE,  # e.g. unverified recipient in the sandbox, bad content
    "BadRequestException": FATAL_MESSAGE,  # e.g. malformed recipient address
    "InvalidParameterValue": FATAL_MESSAGE,
    "AccessDenied": FATAL_RUN,
    "AccessDeniedException": FATAL_RUN,
    "InvalidClientTokenId": FATAL_RUN,
    "UnrecognizedClientException": FATAL_RUN,
    "SignatureDoesNotMatch": FATAL_RUN,
    "ExpiredToken": FATAL_RUN,
    "ExpiredTokenException": FATAL_RUN,
    "AccountSuspendedException": FATAL_RUN,
    "SendingPausedException": FATAL_RUN,
    "MailFromDomainNotVerifiedException": FATAL_RUN,
    "NotFoundException": FATAL_RUN,  # e.g. the configured configuration set does not exist
}
"""Explicit error codes; otherwise the HTTP status decides, as in `HTTP_STATUS_TABLE`."""

_SES_PROVIDER_WIDE = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "LimitExceededException",
        "ServiceUnavailable",
        "InternalFailure",
    }
)


def classify_ses_client_error(error: ClientError, *, now: float) -> Failure:
    """Classify an error answer from SES."""
    details = error.response.get("Error", {})
    metadata = error.response.get("ResponseMetadata", {})
    code = str(details.get("Code", "") or "")
    status = int(metadata.get("HTTPStatusCode", 0) or 0)
    headers = metadata.get("HTTPHeaders", {}) or {}
    text = f"{code or status}: {details.get('Message', '') or ''}".strip()
    if code in SES_ERROR_CODES:
        error_class = SES_ERROR_CODES[code]
        retry_after = (
            retry_after_seconds(headers, now=now, rate_limited=True)
            if error_class is RETRIABLE
            else None
        )
        return Failure(
            error_class,
            code,
            text,
            retry_after_s=retry_after,
            provider_wide=code in _SES_PROVIDER_WIDE,
        )
    by_status = classify_http_status(status, text, headers, now=now)
    return Failure(
        by_status.error_class,
        code or by_status.code,
        text,
        retry_after_s=by_status.retry_after_s,
        provider_wide=by_status.provider_wide,
    )


def classify_botocore_error(error: BotoCoreError) -> Failure:
    """An SES call that got no answer, or never left: which side of the wire did it fail on?"""
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return Failure(FATAL_RUN, "no_credentials", text)
    if isinstance(error, ParamValidationError):
        return Failure(FATAL_MESSAGE, "invalid_request", text)
    if isinstance(error, ConnectTimeoutError | EndpointConnectionError):
        return Failure(RETRIABLE, "connect_failed", text, provider_wide=True)
    # Read timeouts and connections closed after the request was written (and anything we
    # cannot place): SES may have accepted the message.
    return Failure(
        IN_DOUBT,
        "no_answer",
        f"no answer after the request was sent: {text}",
        provider_wide=True,
    )


# -- Twilio Messages API -----------------------------------------------------------------

TWILIO_ERROR_CODES: Mapping[int, ErrorClass] = {
    20003: FATAL_RUN,  # authentication failed
    20005: FATAL_RUN,  # account not active
    20404: FATAL_RUN,  # the account (or resource) in the URL does not exist
    20429: RETRIABLE,  # too many requests
    21211: FATAL_MESSAGE,  # invalid 'To' phone number
    21408: FATAL_MESSAGE,  # no permission to send to this region
    21602: FATAL_MESSAGE,  # message body required
    21606: FATAL_RUN,  # the 'From' number cannot send SMS
    21608: FATAL_MESSAGE,  # unverified 'To' number (trial account)
    21610: FATAL_MESSAGE,  # recipient replied STOP
    21612: FATAL_MESSAGE,  # unroutable 'To' number
    21614: FATAL_MESSAGE,  # 'To' is not a mobile number
    21617: FATAL_MESSAGE,  # body too long
    30001: RETRIABLE,  # queue overflow
}
"""Explicit Twilio error codes; otherwise the HTTP status decides, as in `HTTP_STATUS_TABLE`."""

_TWILIO_STATUS_OVERRIDES: Mapping[int, ErrorClass] = {404: FATAL_RUN}  # wrong account or base URL


def classify_twilio_error(
    status: int,
    twilio_code: int | None,
    detail: str,
    headers: Mapping[str, str] | None = None,
    *,
    now: float,
) -> Failure:
    """Classify a Twilio error answer (`{"code", "message", "more_info", "status"}`)."""
    by_status = classify_http_status(
        status, detail, headers, now=now, overrides=_TWILIO_STATUS_OVERRIDES
    )
    if twilio_code is None or twilio_code not in TWILIO_ERROR_CODES:
        return by_status
    error_class = TWILIO_ERROR_CODES[twilio_code]
    retry_after = None
    if error_class is RETRIABLE:
        retry_after = retry_after_seconds(headers or {}, now=now, rate_limited=True)
    return Failure(
        error_class,
        f"twilio_{twilio_code}",
        f"Twilio {twilio_code}: {detail}",
        retry_after_s=retry_after,
        provider_wide=error_class is RETRIABLE,
    )


# -- SendGrid v3 -------------------------------------------------------------------------

SENDGRID_STATUS_OVERRIDES: Mapping[int, ErrorClass] = {
    404: FATAL_RUN,  # the base URL is wrong: nothing will be sent
}
"""SendGrid answers by HTTP status (`{"errors": [{"message", "field", "help"}]}` bodies)."""
