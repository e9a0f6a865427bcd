"""The classification tables: what each provider answer means for the engine."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from connectors.destinations.errors import (
    classify_botocore_error,
    classify_http_status,
    classify_http_transport_error,
    classify_ses_client_error,
    classify_smtp_connection_loss,
    classify_smtp_reply,
    classify_twilio_error,
    retry_after_seconds,
)
from connectors.destinations.message import ErrorClass

NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, ErrorClass.FATAL_MESSAGE),
        (401, ErrorClass.FATAL_RUN),
        (403, ErrorClass.FATAL_RUN),
        (302, ErrorClass.FATAL_MESSAGE),
        (307, ErrorClass.FATAL_MESSAGE),
        (410, ErrorClass.FATAL_MESSAGE),
        (408, ErrorClass.RETRIABLE),
        (429, ErrorClass.RETRIABLE),
        (500, ErrorClass.RETRIABLE),
        (502, ErrorClass.RETRIABLE),
        (503, ErrorClass.RETRIABLE),
    ],
)
def test_http_statuses(status: int, expected: ErrorClass) -> None:
    assert classify_http_status(status, "", now=NOW).error_class is expected


def test_throttling_and_server_errors_concern_the_whole_provider() -> None:
    assert classify_http_status(429, "", now=NOW).provider_wide
    assert classify_http_status(503, "", now=NOW).provider_wide
    assert not classify_http_status(400, "", now=NOW).provider_wide


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert retry_after_seconds({"Retry-After": "7"}, now=NOW) == 7
    date = format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=NOW) == pytest.approx(30)
    past = format_datetime(datetime.fromtimestamp(NOW - 30, UTC), usegmt=True)
    assert retry_after_seconds({"Retry-After": past}, now=NOW) == 0
    assert retry_after_seconds({"Retry-After": "soon"}, now=NOW) is None
    assert retry_after_seconds({}, now=NOW) is None


def test_sendgrid_rate_limit_reset_is_an_epoch_and_only_counts_when_throttled() -> None:
    headers = {"X-RateLimit-Reset": str(int(NOW) + 12)}
    assert retry_after_seconds(headers, now=NOW) == 12
    assert retry_after_seconds(headers, now=NOW, rate_limited=False) is None
    failure = classify_http_status(429, "too many requests", headers, now=NOW)
    assert failure.retry_after_s == 12


def test_transport_errors_split_on_whether_the_request_left() -> None:
    request = httpx.Request("POST", "https://api.example.com")
    refused = classify_http_transport_error(httpx.ConnectError("refused", request=request))
    timed_out = classify_http_transport_error(httpx.ReadTimeout("slow", request=request))
    dropped = classify_http_transport_error(
        httpx.RemoteProtocolError("Server disconnected", request=request)
    )
    assert refused.error_class is ErrorClass.RETRIABLE
    assert timed_out.error_class is ErrorClass.IN_DOUBT
    assert dropped.error_class is ErrorClass.IN_DOUBT


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (421, ErrorClass.RETRIABLE),
        (450, ErrorClass.RETRIABLE),
        (451, ErrorClass.RETRIABLE),
        (452, ErrorClass.RETRIABLE),
        (535, ErrorClass.FATAL_RUN),
        (530, ErrorClass.FATAL_RUN),
        (550, ErrorClass.FATAL_MESSAGE),
        (553, ErrorClass.FATAL_MESSAGE),
        (554, ErrorClass.FATAL_MESSAGE),
        (501, ErrorClass.FATAL_MESSAGE),
        (455, ErrorClass.RETRIABLE),
    ],
)
def test_smtp_replies(code: int, expected: ErrorClass) -> None:
    assert classify_smtp_reply(code, b"reply").error_class is expected


def test_smtp_connection_loss_is_in_doubt_only_once_the_message_was_transmitted() -> None:
    lost = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    before = classify_smtp_connection_loss(lost, message_transmitted=False)
    after = classify_smtp_connection_loss(lost, message_transmitted=True)
    assert before.error_class is ErrorClass.RETRIABLE
    assert after.error_class is ErrorClass.IN_DOUBT


def _ses_error(code: str, status: int, headers: dict[str, str] | None = None) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}},
    }
    return ClientError(response, "SendEmail")


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("Throttling", 400, ErrorClass.RETRIABLE),
        ("TooManyRequestsException", 429, ErrorClass.RETRIABLE),
        ("MessageRejected", 400, ErrorClass.FATAL_MESSAGE),
        ("BadRequestException", 400, ErrorClass.FATAL_MESSAGE),
        ("AccessDenied", 403, ErrorClass.FATAL_RUN),
        ("InvalidClientTokenId", 403, ErrorClass.FATAL_RUN),
        ("SignatureDoesNotMatch", 403, ErrorClass.FATAL_RUN),
        ("403", 403, ErrorClass.FATAL_RUN),  # an error body botocore could not parse
        ("InternalFailure", 500, ErrorClass.RETRIABLE),
        ("SomethingNew", 503, ErrorClass.RETRIABLE),
    ],
)
def test_ses_error_codes(code: str, status: int, expected: ErrorClass) -> None:
    assert classify_ses_client_error(_ses_error(code, status), now=NOW).error_class is expected


def test_ses_throttling_honours_retry_after() -> None:
    error = _ses_error("TooManyRequestsException", 429, {"retry-after": "3"})
    assert classify_ses_client_error(error, now=NOW).retry_after_s == 3


def test_botocore_transport_errors() -> None:
    assert (
        classify_botocore_error(EndpointConnectionError(endpoint_url="http://x")).error_class
        is ErrorClass.RETRIABLE
    )
    assert (
        classify_botocore_error(ReadTimeoutError(endpoint_url="http://x")).error_class
        is ErrorClass.IN_DOUBT
    )
    assert (
        classify_botocore_error(ConnectionClosedError(endpoint_url="http://x")).error_class
        is ErrorClass.IN_DOUBT
    )
    assert classify_botocore_error(NoCredentialsError()).error_class is ErrorClass.FATAL_RUN


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 21211, ErrorClass.FATAL_MESSAGE),
        (400, 21610, ErrorClass.FATAL_MESSAGE),
        (401, 20003, ErrorClass.FATAL_RUN),
        (429, 20429, ErrorClass.RETRIABLE),
        (404, 20404, ErrorClass.FATAL_RUN),
        (400, 21606, ErrorClass.FATAL_RUN),
        (500, None, ErrorClass.RETRIABLE),
        (400, 99999, ErrorClass.FATAL_MESSAGE),  # unknown codes fall back to the status
    ],
)
def test_twilio_error_codes(status: int, code: int | None, expected: ErrorClass) -> None:
    assert classify_twilio_error(status, code, "m", now=NOW).error_class is expected
