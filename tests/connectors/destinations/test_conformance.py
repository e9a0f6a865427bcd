"""One conformance suite, run by every destination against its real-protocol server.

SMTP (aiosmtpd), SES (moto's server), SendGrid, webhooks and SMS (Twilio shape) must behave
the same wherever the engine can tell: one outcome per message in order, each message
received once with our id, failures classified the same way, nothing in doubt re-sent, and
no secret in any outcome, error or log line.
"""

from __future__ import annotations

import logging

import pytest

from connectors.destinations import (
    DestinationConfigError,
    ErrorClass,
    FatalRunError,
    SendOutcome,
    SendStatus,
)
from tests.connectors.destinations.harnesses import (
    LOST_ANSWER_TIMEOUT_S,
    Harness,
    sms_message,
    webhook_message,
)
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)


def test_check_passes_with_good_config(harness: Harness) -> None:
    with harness.build() as destination:
        destination.check()


def test_check_fails_clearly_with_bad_credentials(harness: Harness) -> None:
    with (
        harness.rejecting(),
        harness.build_check_failing() as destination,
        pytest.raises(DestinationConfigError) as raised,
    ):
        destination.check()
    text = str(raised.value)
    assert text.startswith(f"{harness.kind} destination:")
    assert not any(secret in text for secret in harness.secrets)


def test_a_batch_gets_one_outcome_per_message_in_order_and_each_arrives_once(
    harness: Harness,
) -> None:
    messages = harness.messages(5)
    with harness.build() as destination:
        outcomes = destination.send_batch(messages)
    assert [o.message_id for o in outcomes] == [m.message_id for m in messages]
    assert all(o.status is SendStatus.SENT for o in outcomes), outcomes
    assert sorted(harness.received_ids()) == sorted(m.message_id for m in messages)
    if harness.kind != "webhook":  # a webhook receiver has no message id of its own
        assert all(o.provider_message_id for o in outcomes)


def test_consecutive_batches_reuse_the_destination(harness: Harness) -> None:
    with harness.build() as destination:
        first = destination.send_batch(harness.messages(2))
        second = destination.send_batch(harness.messages(2, start=2))
    assert [o.status for o in first + second] == [SendStatus.SENT] * 4
    assert len(harness.received_ids()) == 4


def test_an_invalid_recipient_fails_that_message_only(harness: Harness) -> None:
    messages = harness.messages(3)
    messages[1] = harness.message(1, harness.invalid_recipient)
    with harness.build() as destination:
        outcomes = destination.send_batch(messages)
    assert [o.status for o in outcomes] == [SendStatus.SENT, SendStatus.FAILED, SendStatus.SENT]
    assert outcomes[1].error_class is ErrorClass.FATAL_MESSAGE
    assert outcomes[1].error_message
    assert sorted(harness.received_ids()) == [messages[0].message_id, messages[2].message_id]


def test_throttling_is_retriable_after_the_providers_delay(harness: Harness) -> None:
    harness.script_throttle()
    messages = harness.messages(3)
    with harness.build() as destination:
        outcomes = destination.send_batch(messages)
    assert [o.error_class for o in outcomes] == [ErrorClass.RETRIABLE] * 3
    if harness.expected_retry_after is None:
        assert all(o.retry_after_s is None for o in outcomes)
    else:
        for outcome in outcomes:
            assert outcome.retry_after_s == pytest.approx(harness.expected_retry_after, abs=1.1)
    # The provider asked us to slow down: messages that were not in the throttled request
    # were not even attempted.
    throttled = outcomes[0].error_code
    assert all(o.error_code in (throttled, "not_attempted") for o in outcomes[1:])
    assert harness.received_ids() == []


def test_a_provider_server_error_is_retriable(harness: Harness) -> None:
    harness.script_server_error()
    with harness.build() as destination:
        outcomes = destination.send_batch(harness.messages(1))
    assert outcomes[0].status is SendStatus.FAILED
    assert outcomes[0].error_class is ErrorClass.RETRIABLE
    assert harness.received_ids() == []


def test_bad_credentials_stop_the_run(harness: Harness) -> None:
    with (
        harness.rejecting(),
        harness.build_rejected() as destination,
        pytest.raises(FatalRunError) as raised,
    ):
        destination.send_batch(harness.messages(3))
    assert raised.value.outcomes == ()  # the first message was refused: nothing was sent
    assert harness.received_ids() == []


def test_a_lost_answer_after_sending_is_in_doubt_and_the_server_has_the_message(
    harness: Harness,
) -> None:
    harness.script_lost_answer()
    messages = harness.messages(2)
    with harness.build(timeout_s=LOST_ANSWER_TIMEOUT_S) as destination:
        outcomes = destination.send_batch(messages)
    assert outcomes[0].error_class is ErrorClass.IN_DOUBT
    in_doubt = [o.message_id for o in outcomes if o.error_class is ErrorClass.IN_DOUBT]
    # The provider has exactly the messages in doubt (which is why they must not be re-sent);
    # the others were left unsent (SendGrid sends both in one request, so both are in doubt).
    assert sorted(harness.received_ids()) == in_doubt
    for outcome in outcomes:
        if outcome.message_id not in in_doubt:
            assert outcome.error_class is ErrorClass.RETRIABLE
            assert outcome.error_code == "not_attempted"


def test_an_unreachable_provider_is_retriable(harness: Harness) -> None:
    to = harness.unreachable_recipient or harness.recipient
    with harness.build_unreachable() as destination:
        outcomes = destination.send_batch([harness.message(0, to(0))])
    assert outcomes[0].error_class is ErrorClass.RETRIABLE
    assert harness.received_ids() == []


def test_a_message_for_another_channel_fails_alone(harness: Harness) -> None:
    stranger = (
        webhook_message(9, "https://hooks.example.com/x")
        if harness.kind == "sms"
        else sms_message(9, "+14155550000")
    )
    messages = [harness.messages(1)[0], stranger]
    with harness.build() as destination:
        outcomes = destination.send_batch(messages)
    assert outcomes[0].status is SendStatus.SENT
    assert outcomes[1].error_class is ErrorClass.FATAL_MESSAGE
    assert outcomes[1].error_code == "wrong_channel"


def test_a_batch_larger_than_the_batch_size_is_refused(harness: Harness) -> None:
    with (
        harness.build(batch_size=2) as destination,
        pytest.raises(ValueError, match="at most 2 messages"),
    ):
        destination.send_batch(harness.messages(3))
    assert harness.received_ids() == []


def test_secrets_never_appear_in_outcomes_errors_or_logs(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    outcomes: list[SendOutcome] = []
    with harness.build() as destination:
        destination.check()
        outcomes += destination.send_batch(harness.messages(2))
        outcomes += destination.send_batch([harness.message(5, harness.invalid_recipient)])
        harness.script_server_error()
        outcomes += destination.send_batch(harness.messages(1, start=6))
    with harness.rejecting():
        with (
            harness.build_check_failing() as destination,
            pytest.raises(DestinationConfigError) as config_error,
        ):
            destination.check()
        with harness.build_rejected() as destination, pytest.raises(FatalRunError) as run_error:
            destination.send_batch(harness.messages(1, start=8))
    for error in (config_error.value, run_error.value):
        texts += [str(error), repr(error)]
    texts += [repr(outcome) for outcome in outcomes]
    texts.append(caplog.text)
    assert any(o.status is SendStatus.FAILED for o in outcomes)  # errors were produced
    for secret in harness.secrets:
        for text in texts:
            assert secret not in text
