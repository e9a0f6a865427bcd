"""SMTP specifics against the aiosmtpd sink: the MIME message, connection reuse and loss."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from connectors.destinations import DestinationConfigError, ErrorClass, FatalRunError, SendStatus
from connectors.destinations.smtp import SmtpConfig, SmtpDestination
from tests.connectors.destinations.harnesses import (
    SENDER,
    SMTP_PASSWORD,
    SMTP_USER,
    email_message,
)
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING, SmtpSink

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)


def smtp(sink: SmtpSink, **overrides: object) -> SmtpDestination:
    config = {
        "host": sink.host,
        "port": sink.port,
        "starttls": False,
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "rate_limit_per_s": 1000,
        **overrides,
    }
    return SmtpDestination(SmtpConfig.model_validate(config))


def test_the_message_is_multipart_alternative_with_our_headers(smtp_sink: SmtpSink) -> None:
    message = email_message(
        7,
        "reader@example.org",
        subject="Frühlingsangebote für dich",
        text="Hello\n.this line starts with a dot\nBye",
        reply_to="help@example.com",
    )
    with smtp(smtp_sink) as destination:
        [outcome] = destination.send_batch([message])
    [mail] = smtp_sink.received
    assert outcome.status is SendStatus.SENT
    assert outcome.provider_message_id == mail.queue_id  # from "250 ... queued as <id>"
    assert mail.mail_from == SENDER
    assert mail.rcpt_tos == ["reader@example.org"]
    parsed = mail.message
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert parsed["Subject"] == "Frühlingsangebote für dich"
    assert parsed["From"] == "Example Shop <news@example.com>"
    assert parsed["To"] == "reader@example.org"
    assert parsed["Reply-To"] == "help@example.com"
    assert parsed["Message-ID"] == "<msg-00007@tidemark>"
    assert parsed["X-Tidemark-Message-Id"] == "msg-00007"
    assert parsed["List-Unsubscribe"] == "<https://t.example.com/u/7>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Date"].datetime.tzinfo is not None
    text_part = next(parsed.iter_parts())
    assert text_part.get_content().splitlines() == [
        "Hello",
        ".this line starts with a dot",  # dot-stuffing was undone by the server
        "Bye",
    ]


def test_one_connection_carries_several_batches(smtp_sink: SmtpSink) -> None:
    with smtp(smtp_sink) as destination:
        for start in (0, 3, 6):
            outcomes = destination.send_batch(
                [email_message(n, f"r{n}@example.org") for n in range(start, start + 3)]
            )
            assert all(o.status is SendStatus.SENT for o in outcomes)
    assert smtp_sink.connections == 1
    assert len(smtp_sink.received) == 9


def test_a_connection_the_server_dropped_is_reopened(smtp_sink: SmtpSink) -> None:
    with smtp(smtp_sink) as destination:
        destination.send_batch([email_message(1, "r1@example.org")])
        smtp_sink.drop_connections()  # e.g. the server's idle timeout
        [outcome] = destination.send_batch([email_message(2, "r2@example.org")])
    assert outcome.status is SendStatus.SENT
    assert smtp_sink.connections == 2
    assert smtp_sink.received_ids() == ["msg-00001", "msg-00002"]


def test_a_drop_after_data_is_in_doubt_and_the_next_batch_reconnects(smtp_sink: SmtpSink) -> None:
    smtp_sink.drop_after_data = 1
    with smtp(smtp_sink) as destination:
        [lost] = destination.send_batch([email_message(1, "r1@example.org")])
        [next_one] = destination.send_batch([email_message(2, "r2@example.org")])
    assert lost.error_class is ErrorClass.IN_DOUBT
    assert lost.error_code == "smtp_no_reply"
    assert smtp_sink.received[0].dropped  # the server kept it: re-sending would duplicate
    assert next_one.status is SendStatus.SENT
    assert smtp_sink.received_ids() == ["msg-00001", "msg-00002"]


def test_a_busy_mailbox_is_retriable_without_stopping_the_batch(smtp_sink: SmtpSink) -> None:
    smtp_sink.rcpt_replies["busy@example.org"] = "450 4.2.1 Mailbox busy, try again later"
    messages = [
        email_message(1, "r1@example.org"),
        email_message(2, "busy@example.org"),
        email_message(3, "r3@example.org"),
    ]
    with smtp(smtp_sink) as destination:
        outcomes = destination.send_batch(messages)
    assert [o.status for o in outcomes] == [SendStatus.SENT, SendStatus.FAILED, SendStatus.SENT]
    assert outcomes[1].error_class is ErrorClass.RETRIABLE
    assert outcomes[1].error_code == "smtp_450"
    assert smtp_sink.connections == 1  # a refused recipient does not cost the connection


def test_421_closes_the_connection_and_the_next_batch_opens_a_new_one(smtp_sink: SmtpSink) -> None:
    smtp_sink.mail_replies.append("421 4.7.0 Too many connections, closing")
    with smtp(smtp_sink) as destination:
        first = destination.send_batch([email_message(1, "r1@example.org")])
        second = destination.send_batch([email_message(2, "r2@example.org")])
    assert first[0].error_class is ErrorClass.RETRIABLE
    assert second[0].status is SendStatus.SENT
    assert smtp_sink.connections == 2


# -- several connections --------------------------------------------------------------------


def test_a_batch_is_spread_over_the_configured_connections(smtp_sink: SmtpSink) -> None:
    messages = [email_message(n, f"r{n}@example.org") for n in range(30)]
    with smtp(smtp_sink, connections=3) as destination:
        destination.check()
        assert smtp_sink.connections == 3  # check() opens them all: a relay's limit shows there
        first = destination.send_batch(messages[:15])
        second = destination.send_batch(messages[15:])
    outcomes = first + second
    assert [o.message_id for o in outcomes] == [m.message_id for m in messages]
    assert all(o.status is SendStatus.SENT for o in outcomes)
    assert sorted(smtp_sink.received_ids()) == sorted(m.message_id for m in messages)
    assert len({mail.peer for mail in smtp_sink.received}) == 3
    assert smtp_sink.connections == 3  # kept across batches
    by_queue_id = {mail.queue_id: mail for mail in smtp_sink.received}
    for message, outcome in zip(messages, outcomes, strict=True):
        mail = by_queue_id[str(outcome.provider_message_id)]
        assert mail.message["X-Tidemark-Message-Id"] == message.message_id
        assert mail.rcpt_tos == [message.to]


def test_a_failing_recipient_on_one_connection_fails_only_that_message(
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.rcpt_replies["gone@example.org"] = "550 5.1.1 User unknown"
    messages = [email_message(n, f"r{n}@example.org") for n in range(8)]
    messages[5] = email_message(5, "gone@example.org")
    with smtp(smtp_sink, connections=2) as destination:
        outcomes = destination.send_batch(messages)
    assert [o.status for o in outcomes] == [SendStatus.SENT] * 5 + [SendStatus.FAILED] + [
        SendStatus.SENT
    ] * 2
    assert outcomes[5].error_class is ErrorClass.FATAL_MESSAGE
    assert len(smtp_sink.received) == 7


def test_throttling_on_one_connection_leaves_no_message_without_its_true_outcome(
    smtp_sink: SmtpSink,
) -> None:
    """The other connection may have a message in flight when the relay throttles this
    one; whatever it sent is `sent`, the rest is retriable, and nothing is unaccounted for."""
    smtp_sink.mail_replies.append("421 4.7.0 Too many messages, slow down")
    messages = [email_message(n, f"r{n}@example.org") for n in range(20)]
    with smtp(smtp_sink, connections=2) as destination:
        outcomes = destination.send_batch(messages)
    assert [o.message_id for o in outcomes] == [m.message_id for m in messages]
    received = set(smtp_sink.received_ids())
    sent = {o.message_id for o in outcomes if o.status is SendStatus.SENT}
    assert sent == received
    assert len(sent) <= 1  # at most the message the other connection had in flight
    codes = [o.error_code for o in outcomes if o.status is not SendStatus.SENT]
    assert codes.count("smtp_421") == 1
    assert set(codes) == {"smtp_421", "not_attempted"}
    assert all(
        o.error_class is ErrorClass.RETRIABLE for o in outcomes if o.status is not SendStatus.SENT
    )


def test_bad_credentials_stop_every_connection(smtp_sink: SmtpSink) -> None:
    messages = [email_message(n, f"r{n}@example.org") for n in range(6)]
    with (
        smtp(smtp_sink, connections=3, password="wrong-password-42") as destination,
        pytest.raises(FatalRunError) as raised,
    ):
        destination.send_batch(messages)
    assert raised.value.outcomes == ()
    assert smtp_sink.received == []


def test_connections_share_the_rate_limit(smtp_sink: SmtpSink) -> None:
    messages = [email_message(n, f"r{n}@example.org") for n in range(30)]
    with smtp(smtp_sink, connections=3, rate_limit_per_s=100, rate_burst=1) as destination:
        destination.check()  # connected beforehand: the first arrival is not late by a login
        outcomes = destination.send_batch(messages)
    assert all(o.status is SendStatus.SENT for o in outcomes)
    arrivals = sorted(mail.received_at for mail in smtp_sink.received)
    # 30 messages at 100/s with a burst of one take 29 intervals of 10 ms (less the arrival
    # jitter); three connections without the shared limit send them in a few milliseconds.
    assert arrivals[-1] - arrivals[0] >= 0.29 - 0.05


def test_messages_that_would_inject_headers_are_refused_before_sending(
    smtp_sink: SmtpSink,
) -> None:
    messages = [
        email_message(1, "r1@example.org", subject="Hi\r\nBcc: everyone@example.org"),
        email_message(2, "r2@example.org", headers={"Subject": "override"}),
        email_message(3, "r3@example.org", headers={"X-Campaign": "spring\nBcc: x@example.org"}),
        email_message(4, "r4@example.org"),
    ]
    with smtp(smtp_sink) as destination:
        outcomes = destination.send_batch(messages)
    assert [o.error_class for o in outcomes[:3]] == [ErrorClass.FATAL_MESSAGE] * 3
    assert "line break" in (outcomes[0].error_message or "")
    assert "set by the destination" in (outcomes[1].error_message or "")
    assert outcomes[3].status is SendStatus.SENT
    assert smtp_sink.received_ids() == ["msg-00004"]


@pytest.fixture(scope="module")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, acting as its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tidemark test SMTP")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_sink(tls_certificate: tuple[Path, Path]) -> Iterator[SmtpSink]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_certificate)
    sink = SmtpSink(username=SMTP_USER, password=SMTP_PASSWORD, tls_context=context).start()
    try:
        yield sink
    finally:
        sink.stop()


def test_starttls_with_a_trusted_ca_then_auth(
    tls_sink: SmtpSink, tls_certificate: tuple[Path, Path]
) -> None:
    with smtp(tls_sink, starttls=True, ca_file=tls_certificate[0]) as destination:
        destination.check()
        [outcome] = destination.send_batch([email_message(1, "r1@example.org")])
    assert outcome.status is SendStatus.SENT
    assert tls_sink.received_ids() == ["msg-00001"]


def test_an_untrusted_certificate_fails_the_check(tls_sink: SmtpSink) -> None:
    with smtp(tls_sink, starttls=True) as destination:
        with pytest.raises(DestinationConfigError, match="TLS with"):
            destination.check()
        # Sending does not fall back to plain text: it stops the run.
        with pytest.raises(FatalRunError, match="CERTIFICATE_VERIFY_FAILED"):
            destination.send_batch([email_message(1, "r1@example.org")])
    assert tls_sink.received == []
