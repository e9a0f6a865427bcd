"""The activation engine at the issue's sizes: throughput, SMTP overhead, diff time, memory.

1. **SendGrid throughput** — `ActivationEngine.run` end to end (plan, enqueue, render,
   deliver to the SendGrid-compatible test server, ledger, mirror) for 100,000 recipients;
   goal ≥ 10,000 messages/s on 2 cores. Three templates; the destination puts up to 1,000
   messages in one request, with the pieces where their bodies differ sent as per-recipient
   substitutions into one shared body:
   - *personalised*: the recipient's name, product and id in the body (4-6 substitutions);
   - *static*: no row variable at all, but the engine requires `{{ unsubscribe_url }}` in
     every email body and that link is signed per message, so bodies still differ there;
   - *shared body*: the unsubscribe link only in the `List-Unsubscribe` header, so every
     body is identical and needs no substitution. The engine's own renderer refuses such a
     template; this one is rendered by the product's `render_batch` with
     `require_unsubscribe_link=False`, to show what substitutions cost.
   The server's own ceiling (bare httpx, one message per request) is measured beside it.
2. **SMTP** — the engine to an aiosmtpd sink that only counts, vs a bare `smtplib` loop (one
   connection, `sendmail` per message) sending as many messages of the same size to the same
   sink, in the same run; goal ≥ 80%. The sink alone is measured with a raw-socket client
   that writes each transaction in one piece, so its ceiling is known.
3. **Diff** — `plan_run` on a 1,000,000-member segment with 1% churn, after a snapshot
   exists (the state a delivered first run leaves: snapshot and message log), vs a bare
   DuckDB anti-join on the same tables; goal ≤ 1 s.
4. **Deferred delivery** — a run whose whole audience is in its night ends `deferred`; the
   engine's clock is moved to the end of the night and the due pass (`deliver_due`, what
   the Dagster sensor launches) delivers it. Reported: the run's time and the pass's rate.
5. **Peak RSS** — `ActivationEngine.run` for 1,000,000 recipients in a subprocess, its RSS
   sampled with psutil; goal ≤ 1 GiB. The whole million is planned, enqueued and mirrored;
   delivery is bounded by the engine's own quiet hours: 10% of the audience live where it is
   daytime and are sent, the others are deferred to the end of their night.

Every server runs in its own process, so it does not share the engine's interpreter (its
GIL); on 2 cores it still shares the CPUs, which the figures must be read with.
`python -m tests.benchmarks.bench_activation profile KIND [MESSAGES]` prints a pyinstrument
profile of one engine run and its time grouped by step; KIND is one of `PROFILE_KINDS`
(sendgrid, sendgrid-keep-alive, sendgrid-shared-body, smtp).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing
import os
import secrets
import shutil
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psutil
from pydantic import SecretStr

from activation.catalog import create_activation
from activation.definition import ActivationDefinition
from activation.deliver import Renderer
from activation.delivery_shares import ShareLauncher
from activation.destinations import destination_for
from activation.engine import ActivationEngine, RunReport
from activation.message_renderer import message_template, render_context
from activation.message_renderer import renderer_for as engine_renderer_for
from activation.plan import plan_run
from activation.render import EmailTemplate, Recipient, compile_template, render_batch
from activation.segment_rows import row_hash_sql, segment_columns
from activation.segments import Segment
from activation.warehouse_tables import SCHEMA, ensure_engine_tables
from connectors.destinations.message import OutboundMessage
from connectors.ops_store import create_ops_engine, create_schema, ops_sessionmaker
from connectors.ops_store.outbox import ClaimedMessage
from connectors.settings import REPO_ROOT, Settings
from connectors.warehouse.base import WarehouseSession
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.benchmarks import BenchmarkSanityError, BenchOptions, BenchReport, Figure, load_average

SENDGRID_MESSAGES = 100_000
#: Connections of the SMTP path's second round (the engine's `connections`, the bare loop's
#: threads).
SMTP_CONNECTIONS = 2
SMTP_MESSAGES = 20_000
DIFF_MEMBERS = 1_000_000
RSS_RECIPIENTS = 1_000_000
RSS_DUE_SHARE = 0.02
CEILING_REQUESTS = 20_000
CHURN = {"added": 0.004, "removed": 0.003, "changed": 0.003}  # 1% of the members in all

THROUGHPUT_GOAL = 10_000.0  # messages/s, a floor
SMTP_RATIO_GOAL = 0.80  # of the bare smtplib loop, a floor
DIFF_GOAL_S = 1.0
RSS_GOAL_GIB = 1.0
GIB = 2**30
SAMPLE_INTERVAL_S = 0.1

SEGMENT = Segment(
    name="bench",
    model="segment_bench",
    relation="analytics.segment_bench",
    label="Bench",
    description="",
    owner=None,
    channels=("email",),
    columns=("profile_id", "email", "first_name", "last_product"),
)
ACTIVATION = "bench_welcome"
SENDER = "shop@example.com"
SENDGRID_KEY = "SG.bench-" + "k" * 24  # a local test server's key, not a credential
UNLIMITED_RATE = 1_000_000.0  # messages/s: the provider's pace is not what is measured

#: A realistic one-column promotional email (MJML compiles it to ~10 KB of HTML).
_MJML = """<mjml><mj-body>
<mj-section><mj-column><mj-text font-size="20px">{greeting}</mj-text></mj-column></mj-section>
<mj-section><mj-column>
<mj-text>Your cart is waiting{cart}. Everything in it is still in stock, and delivery is
free this week for orders over 40 euros.</mj-text>
<mj-button href="https://shop.example.com/cart{link}">Back to my cart</mj-button>
<mj-text font-size="12px">You receive this email because you subscribed to our news.
{footer}</mj-text>
</mj-column></mj-section></mj-body></mjml>"""

TEMPLATES: dict[str, dict[str, str]] = {
    "personalised": {
        "subject": "{{ first_name }}, your cart is waiting",
        "mjml": _MJML.format(
            greeting="Hello {{ first_name }}!",
            cart=": {{ last_product }}",
            link="?p={{ profile_id }}",
            footer='<a href="{{ unsubscribe_url }}">Unsubscribe</a>',
        ),
    },
    "static": {
        "subject": "Your cart is waiting",
        "mjml": _MJML.format(
            greeting="Hello!",
            cart="",
            link="",
            footer='<a href="{{ unsubscribe_url }}">Unsubscribe</a>',
        ),
    },
    "shared body": {
        "subject": "Your cart is waiting",
        "mjml": _MJML.format(
            greeting="Hello!",
            cart="",
            link="",
            footer="Unsubscribe with one click in your mail app.",
        ),
    },
}

# --------------------------------------------------------------------------------------------
# Servers, each in its own process, driven through a pipe
# --------------------------------------------------------------------------------------------


def _serve_sendgrid(control: Connection, api_key: str, keep_alive: bool = False) -> None:
    """Child process: the SendGrid-compatible test server until told to stop.

    The test server speaks HTTP/1.0: a new connection (and server thread) per request.
    `keep_alive` switches its handler to HTTP/1.1 (it always sends Content-Length), as a
    real provider's endpoint would, so one connection serves every request.
    """
    from tests.connectors.destinations.servers.sendgrid_server import SendGridServer

    server = SendGridServer(api_key)
    if keep_alive:
        handler: Any = server.http._server.RequestHandlerClass
        handler.protocol_version = "HTTP/1.1"
    server.http.start()
    control.send(server.url)
    _answer_until_stop(
        control,
        {
            "received": lambda: server.received_ids(),
            "requests": lambda: len(server.requests),
        },
    )
    server.http.stop()


class _CountingHandler:
    """aiosmtpd handler that does the least a sink can: keep each message's Tidemark id."""

    MARKER = b"X-Tidemark-Message-Id: "

    def __init__(self) -> None:
        self.ids: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data: bytes = envelope.original_content or b""
        start = data.find(self.MARKER)
        if start >= 0:
            start += len(self.MARKER)
            self.ids.append(data[start : data.find(b"\r\n", start)])
        return "250 OK"


def _serve_smtp(control: Connection) -> None:
    """Child process: an aiosmtpd sink that only records message ids, until told to stop."""
    from aiosmtpd.controller import Controller

    from tests.connectors.destinations.servers.ports import free_port

    handler = _CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    control.send(("127.0.0.1", port))

    def take_received() -> list[str]:
        taken, handler.ids = handler.ids, []
        return [i.decode() for i in taken]

    _answer_until_stop(control, {"take_received": take_received})
    controller.stop()


def _answer_until_stop(control: Connection, commands: dict[str, Callable[[], Any]]) -> None:
    while True:
        command = control.recv()
        if command == "stop":
            return
        control.send(commands[command]())


class ServerProcess:
    """A server started in a spawned process; `ask` sends it a command and returns its answer."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        self.process = context.Process(target=target, args=(child, *args), daemon=True)

    def __enter__(self) -> ServerProcess:
        self.process.start()
        if not self._control.poll(60):
            raise BenchmarkSanityError(f"{self.process.name} did not start within 60 s")
        self.address = self._control.recv()
        return self

    def ask(self, command: str) -> Any:
        self._control.send(command)
        return self._control.recv()

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._control.send("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


# --------------------------------------------------------------------------------------------
# An audience in a real warehouse, an engine wired as in production
# --------------------------------------------------------------------------------------------

PROFILES_DDL = (
    "create or replace table analytics.profiles (profile_id varchar, email varchar, "
    "phone varchar, first_name varchar, time_zone varchar, is_email_valid boolean, "
    "email_consent varchar, sms_consent varchar, is_email_suppressed boolean, "
    "is_sms_suppressed boolean)"
)


def build_audience(
    warehouse: DuckDBWarehouse,
    members: int,
    *,
    zones: tuple[str, str] = ("UTC", "UTC"),
    first_zone_share: float = 1.0,
) -> None:
    """`members` reachable profiles, all in the segment; the first share in `zones[0]`."""
    with warehouse.session() as wh:
        wh.execute("create schema if not exists analytics")
        wh.execute(PROFILES_DDL)
        wh.execute(
            "insert into analytics.profiles select 'p' || lpad(i::varchar, 8, '0'), "
            "'p' || lpad(i::varchar, 8, '0') || '@example.com', null, "
            "['Ann', 'Bob', 'Chloé', 'Dmitri', 'Eve'][i % 5 + 1], "
            "case when i < $cut then $zone_a else $zone_b end, true, 'granted', "
            "'never_asked', false, false from range($n) t(i)",
            {
                "n": members,
                "cut": round(members * first_zone_share),
                "zone_a": zones[0],
                "zone_b": zones[1],
            },
        )
        wh.execute(
            f"create or replace table {SEGMENT.relation} as select profile_id, email, "
            "first_name, 'product ' || right(profile_id, 3) as last_product "
            "from analytics.profiles"
        )


def manifest() -> dict[str, Any]:
    """The part of a dbt manifest the engine reads: the bench segment's model."""
    return {
        "nodes": {
            f"model.tidemark.{SEGMENT.model}": {
                "resource_type": "model",
                "name": SEGMENT.model,
                "schema": "analytics",
                "config": {
                    "meta": {
                        "tidemark": {
                            "segment": {"label": SEGMENT.label, "channels": list(SEGMENT.channels)}
                        }
                    }
                },
                "columns": {column: {} for column in SEGMENT.columns},
            }
        },
        "exposures": {},
    }


@dataclass
class Wiring:
    """One fresh home: warehouse, ops store, settings and the engine over them."""

    home: Path
    settings: Settings
    warehouse: DuckDBWarehouse
    engine: ActivationEngine


def shared_body_renderer(settings: Settings, definition: ActivationDefinition) -> Renderer:
    """The engine's renderer, except that the body need not carry the unsubscribe link.

    The product's compile and render functions, with `require_unsubscribe_link=False`; the
    `List-Unsubscribe` headers still differ per message, the bodies do not.
    """
    email = message_template(definition)
    if not isinstance(email, EmailTemplate):
        raise TypeError(f"activation {definition.name!r} does not send email")
    template = dataclasses.replace(email, require_unsubscribe_link=False)
    compiled = compile_template(template)
    context = render_context(settings, definition)

    def render(messages: list[ClaimedMessage]) -> tuple[list[OutboundMessage], dict[str, str]]:
        batch = render_batch(
            compiled,
            [
                Recipient(m.message_id, m.profile_id, m.address, json.loads(m.attributes))
                for m in messages
            ],
            context=context,
        )
        return batch.messages, {f.message_id: f.reason for f in batch.failures}

    return render


def destinations_config(
    sendgrid_url: str | None = None,
    smtp: tuple[str, int] | None = None,
    smtp_connections: int = 1,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Destinations `sendgrid` and `smtp` (settings, secrets); rate limits out of the way."""
    destinations: dict[str, Any] = {}
    destination_secrets: dict[str, Any] = {}
    if sendgrid_url is not None:
        destinations["sendgrid"] = {
            "kind": "sendgrid",
            "config": {"base_url": sendgrid_url, "rate_limit_per_s": UNLIMITED_RATE},
        }
        destination_secrets["sendgrid"] = {"api_key": SENDGRID_KEY}
    if smtp is not None:
        destinations["smtp"] = {
            "kind": "smtp",
            "config": {
                "host": smtp[0],
                "port": smtp[1],
                "starttls": False,
                "rate_limit_per_s": UNLIMITED_RATE,
                "connections": smtp_connections,
            },
        }
    return destinations, destination_secrets


def wire(
    home: Path,
    destination: str,
    template: str,
    *,
    sendgrid_url: str | None = None,
    smtp: tuple[str, int] | None = None,
    smtp_connections: int = 1,
    quiet_hours: bool = False,
    define: bool = True,
    share_launcher: ShareLauncher | None = None,
) -> Wiring:
    """An engine over `home` whose activation `bench_welcome` sends `template`.

    With `define=False` the activation is expected to exist already (a second process).
    """
    destinations, destination_secrets = destinations_config(sendgrid_url, smtp, smtp_connections)
    settings = Settings(
        home=home,
        destinations=destinations,
        destination_secrets=destination_secrets,
        unsubscribe_secret=SecretStr(secrets.token_urlsafe(32)),
    )
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    ops = create_ops_engine(settings.ops_store_dsn)
    create_schema(ops)
    sessions = ops_sessionmaker(ops)
    definition = ActivationDefinition.model_validate(
        {
            "name": ACTIVATION,
            "segment": SEGMENT.name,
            "destination": destination,
            "channel": "email",
            "message": {"from_address": SENDER, **TEMPLATES[template]},
            **({} if quiet_hours else {"quiet_hours": None}),
        }
    )
    if define:
        with sessions() as session, session.begin():
            create_activation(
                session, definition, actor="bench", manifest=manifest(), segments=[SEGMENT]
            )
    renderer = shared_body_renderer if template == "shared body" else engine_renderer_for
    engine = ActivationEngine(
        warehouse=warehouse,
        sessions=sessions,
        manifest=manifest,
        destination_for=lambda d: destination_for(settings, d),
        renderer_for=lambda d: renderer(settings, d),
        share_launcher=share_launcher,
    )
    return Wiring(home, settings, warehouse, engine)


def logged_message_ids(warehouse: DuckDBWarehouse, run_id: str) -> dict[str, str]:
    """The run's rows in `tidemark.message_log`: message id → state."""
    rows = warehouse.query_arrow(
        f"select message_id, state from {SCHEMA}.message_log where run_id = ?", [run_id]
    ).to_pylist()
    return {r["message_id"]: r["state"] for r in rows}


def check_delivered(
    what: str, wiring: Wiring, report: RunReport, expected: int, received: list[str]
) -> None:
    """Every recipient sent once, recorded as sent, mirrored, and received by the server."""
    if report.counts != {"sent": expected}:
        raise BenchmarkSanityError(
            f"{what}: expected {expected} sent, the ledger says {report.counts}"
        )
    logged = logged_message_ids(wiring.warehouse, report.run_id)
    if len(logged) != expected or set(logged.values()) != {"sent"}:
        raise BenchmarkSanityError(
            f"{what}: message_log holds {len(logged)} rows in states {Counter(logged.values())}"
        )
    if len(received) != expected or set(received) != set(logged):
        raise BenchmarkSanityError(
            f"{what}: the server received {len(received)} messages "
            f"({len(set(received))} distinct ids) for {expected} sent"
        )


# --------------------------------------------------------------------------------------------
# 1. SendGrid throughput
# --------------------------------------------------------------------------------------------


def timed_engine_run(wiring: Wiring, workers: int = 1) -> tuple[RunReport, float]:
    started = time.perf_counter()
    report = wiring.engine.run(ACTIVATION, requested_by="bench", workers=workers)
    return report, time.perf_counter() - started


#: (template, keep-alive server) pairs measured end to end.
SENDGRID_CASES = (
    ("personalised", False),
    ("static", False),
    ("shared body", False),
    ("personalised", True),
)


def case_label(template: str, keep_alive: bool) -> str:
    return f"{template}, keep-alive server" if keep_alive else template


def sendgrid_run(
    scratch: Path, template: str, messages: int, index: int, *, keep_alive: bool = False
) -> dict[str, Any]:
    """One engine run of `messages` recipients to a fresh SendGrid-compatible server."""
    label = case_label(template, keep_alive)
    home = scratch / f"sendgrid-{label.replace(' ', '-').replace(',', '')}-{index}"
    with ServerProcess(_serve_sendgrid, SENDGRID_KEY, keep_alive) as server:
        wiring = wire(home, "sendgrid", template, sendgrid_url=server.address)
        build_audience(wiring.warehouse, messages)
        load_before = load_average()
        report, seconds = timed_engine_run(wiring)
        load_after = load_average()
        received = server.ask("received")
        requests = server.ask("requests")
    check_delivered(f"sendgrid/{label}", wiring, report, messages, received)
    shutil.rmtree(home)  # free the disk before the next measurement
    assert report.delivery is not None
    return {
        "case": label,
        "messages": messages,
        "seconds": round(seconds, 3),
        "messages_per_s": round(messages / seconds, 1),
        "deliver_s": round(report.delivery.seconds, 3),
        "plan_enqueue_mirror_s": round(seconds - report.delivery.seconds, 3),
        "requests": requests,
        "load_before": load_before,
        "load_after": load_after,
    }


def due_pass_run(scratch: Path, messages: int, index: int) -> dict[str, Any]:
    """A run whose whole audience is in its night, then the pass that delivers it at dawn.

    The run plans and enqueues everything and ends `deferred`, sending nothing; the engine's
    clock is then moved past the end of the quiet hours and `deliver_due` (what the Dagster
    sensor launches) delivers the run to the SendGrid-compatible server.
    """
    home = scratch / f"due-pass-{index}"
    with ServerProcess(_serve_sendgrid, SENDGRID_KEY) as server:
        wiring = wire(
            home, "sendgrid", "personalised", sendgrid_url=server.address, quiet_hours=True
        )
        build_audience(wiring.warehouse, messages, zones=(zone_at_local_hours(NIGHT_HOURS),) * 2)
        deferred, run_s = timed_engine_run(wiring)
        if deferred.status != "deferred" or deferred.next_due_at is None:
            raise BenchmarkSanityError(f"due pass: the run ended {deferred.status}, not deferred")
        dawn = deferred.next_due_at
        wiring.engine.clock = lambda: dawn
        load_before = load_average()
        started = time.perf_counter()
        report = wiring.engine.deliver_due(deferred.run_id)
        pass_s = time.perf_counter() - started
        received = server.ask("received")
    check_delivered("due pass", wiring, report, messages, received)
    shutil.rmtree(home)
    return {
        "messages": messages,
        "run_s": round(run_s, 3),
        "pass_s": round(pass_s, 3),
        "pass_messages_per_s": round(messages / pass_s, 1),
        "load_before": load_before,
        "load_after": load_average(),
    }


def sendgrid_server_ceiling(messages: int, *, keep_alive: bool = False) -> dict[str, Any]:
    """The test server alone: a bare httpx client posting one-message requests of real size."""
    scratch = Path(tempfile.mkdtemp(prefix="tidemark-bench-sg-"))
    try:
        bodies = _sample_bodies(scratch, min(messages, 2_000))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    with ServerProcess(_serve_sendgrid, SENDGRID_KEY, keep_alive) as server:
        load_before = load_average()
        with httpx.Client(headers={"Authorization": f"Bearer {SENDGRID_KEY}"}) as client:
            started = time.perf_counter()
            for i in range(messages):
                answer = client.post(
                    f"{server.address}/v3/mail/send",
                    content=bodies[i % len(bodies)],
                    headers={"Content-Type": "application/json"},
                )
                if answer.status_code != 202:
                    raise BenchmarkSanityError(f"the server answered {answer.status_code}")
            seconds = time.perf_counter() - started
        accepted = len(server.ask("received"))
    if accepted != messages:
        raise BenchmarkSanityError(f"the server accepted {accepted} of {messages} requests")
    return {
        "requests": messages,
        "seconds": round(seconds, 3),
        "requests_per_s": round(messages / seconds, 1),
        "load_before": load_before,
        "load_after": load_average(),
    }


def _sample_bodies(scratch: Path, count: int) -> list[bytes]:
    """Real mail/send bodies of one personalised message each, as the destination builds them."""
    from connectors.destinations.email_parts import email_parts
    from connectors.destinations.sendgrid import _mail_send_body

    wiring = wire(scratch, "sendgrid", "personalised", sendgrid_url="http://127.0.0.1:9")
    definition, _ = wiring.engine.definition(ACTIVATION)
    render = engine_renderer_for(wiring.settings, definition)
    claimed = [
        ClaimedMessage(
            f"{i:032x}",
            f"p{i:08d}",
            "email",
            f"p{i:08d}@example.com",
            "default",
            json.dumps(
                {"profile_id": f"p{i:08d}", "first_name": "Ann", "last_product": "product 1"}
            ),
            1,
        )
        for i in range(count)
    ]
    rendered, _failures = render(claimed)
    return [json.dumps(_mail_send_body([(m, email_parts(m))])).encode() for m in rendered]


# --------------------------------------------------------------------------------------------
# 2. SMTP: the engine vs a bare smtplib loop vs the sink alone
# --------------------------------------------------------------------------------------------


def smtp_engine_run(
    scratch: Path, sink: ServerProcess, messages: int, index: int, connections: int = 1
) -> dict[str, Any]:
    wiring = wire(
        scratch / f"smtp-{index}-{connections}",
        "smtp",
        "personalised",
        smtp=sink.address,
        smtp_connections=connections,
    )
    build_audience(wiring.warehouse, messages)
    load_before = load_average()
    report, seconds = timed_engine_run(wiring)
    load_after = load_average()
    received = sink.ask("take_received")
    check_delivered("smtp", wiring, report, messages, received)
    shutil.rmtree(wiring.home)
    assert report.delivery is not None
    return {
        "messages": messages,
        "seconds": round(seconds, 3),
        "messages_per_s": round(messages / seconds, 1),
        "deliver_s": round(report.delivery.seconds, 3),
        "load_before": load_before,
        "load_after": load_after,
    }


def sample_message(wiring: Wiring, message_id: str) -> OutboundMessage:
    """One of the activation's messages, rendered by the engine's renderer."""
    definition, _ = wiring.engine.definition(ACTIVATION)
    row = {"profile_id": "p00000001", "first_name": "Ann", "last_product": "product 1"}
    claimed = ClaimedMessage(
        message_id, "p00000001", "email", "p00000001@example.com", "default", json.dumps(row), 1
    )
    rendered, _failures = engine_renderer_for(wiring.settings, definition)([claimed])
    return rendered[0]


def smtp_payload(message: OutboundMessage) -> bytes:
    """The bytes the SMTP destination sends for `message` (its MIME, quoted-printable)."""
    from connectors.destinations.email_parts import email_parts
    from connectors.destinations.mime import build_mime

    return build_mime(email_parts(message)).as_bytes()


def _timed_sends(
    what: str, sink: ServerProcess, messages: int, send: Callable[[], None]
) -> dict[str, Any]:
    """Time `send` (which sends `messages` messages), then check the sink got them all."""
    load_before = load_average()
    started = time.perf_counter()
    send()
    seconds = time.perf_counter() - started
    received = sink.ask("take_received")
    if len(set(received)) != messages:
        raise BenchmarkSanityError(f"{what}: the sink kept {len(set(received))} of {messages}")
    return {
        "messages": messages,
        "seconds": round(seconds, 3),
        "messages_per_s": round(messages / seconds, 1),
        "load_before": load_before,
        "load_after": load_average(),
    }


def smtplib_loop(
    sink: ServerProcess, payloads: list[bytes], connections: int = 1
) -> dict[str, Any]:
    """`sendmail` per message, the messages' bytes made beforehand; one connection, or
    several, each in its own thread with every n-th message."""
    host, port = sink.address

    def send_share(first: int) -> None:
        with smtplib.SMTP(host, port) as client:
            for i in range(first, len(payloads), connections):
                client.sendmail(SENDER, f"p{i:08d}@example.com", payloads[i])

    def send() -> None:
        threads = [threading.Thread(target=send_share, args=(k,)) for k in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    return _timed_sends(f"smtplib loop ({connections} connections)", sink, len(payloads), send)


def smtplib_building_loop(
    sink: ServerProcess, sample: OutboundMessage, messages: int, index: int
) -> dict[str, Any]:
    """One connection, `sendmail` per message, each built with the stdlib `email` package.

    What a hand-written script does: the rendered text and html (their recipient-specific
    parts replaced by string formatting), an `EmailMessage` per recipient, `send_message`.
    """
    host, port = sink.address
    text, html, subject = sample.text, sample.html, sample.subject
    assert text is not None and html is not None and subject is not None

    def send() -> None:
        with smtplib.SMTP(host, port) as client:
            for i in range(messages):
                to = f"p{i:08d}@example.com"
                mail = EmailMessage()
                mail["From"] = SENDER
                mail["To"] = to
                mail["Subject"] = subject
                mail["X-Tidemark-Message-Id"] = f"b{index:02d}{i:029d}"
                mail.set_content(text.replace("p00000001", f"p{i:08d}"))
                mail.add_alternative(html.replace("p00000001", f"p{i:08d}"), subtype="html")
                client.send_message(mail, SENDER, [to])  # flattens with CRLF, then sendmail

    return _timed_sends("smtplib + email loop", sink, messages, send)


def raw_socket_ceiling(sink: ServerProcess, payloads: list[bytes]) -> dict[str, Any]:
    """The sink alone: each transaction written in one piece, its four replies read after.

    aiosmtpd reads commands from a stream, so a transaction written whole is served as if it
    had been sent step by step; the client does almost nothing, what remains is the sink.
    """
    host, port = sink.address
    transactions = [
        b"MAIL FROM:<%s>\r\nRCPT TO:<p%08d@example.com>\r\nDATA\r\n%s.\r\n"
        % (SENDER.encode(), i, payload if payload.endswith(b"\r\n") else payload + b"\r\n")
        for i, payload in enumerate(payloads)
    ]

    def send() -> None:
        with socket.create_connection((host, port)) as raw:
            reader = raw.makefile("rb")
            reader.readline()  # greeting
            raw.sendall(b"EHLO bench\r\n")
            while not reader.readline().startswith(b"250 "):
                pass
            for transaction in transactions:
                raw.sendall(transaction)
                for _ in range(4):  # MAIL, RCPT, DATA (354), end of data
                    reply = reader.readline()
                    if reply[:1] not in (b"2", b"3"):
                        raise BenchmarkSanityError(f"the sink answered {reply!r}")
            raw.sendall(b"QUIT\r\n")

    return _timed_sends("raw client", sink, len(payloads), send)


def smtp_round(scratch: Path, messages: int, index: int) -> dict[str, Any]:
    """The SMTP measurements against one sink, one after the other: the engine and the bare
    loop over one connection, then both over `SMTP_CONNECTIONS`."""
    with ServerProcess(_serve_smtp) as sink:
        engine = smtp_engine_run(scratch, sink, messages, index)
        engine_parallel = smtp_engine_run(scratch, sink, messages, index, SMTP_CONNECTIONS)
        wiring = wire(scratch / f"smtp-sample-{index}", "smtp", "personalised", smtp=sink.address)
        sample = sample_message(wiring, "MESSAGEID-PLACEHOLDER")
        template = smtp_payload(sample)
        payloads = [
            template.replace(b"MESSAGEID-PLACEHOLDER", f"a{index:02d}{i:029d}".encode())
            for i in range(messages)
        ]
        bare = smtplib_loop(sink, payloads)
        bare_parallel = smtplib_loop(sink, payloads, SMTP_CONNECTIONS)
        building = smtplib_building_loop(sink, sample, messages, index)
        ceiling = raw_socket_ceiling(sink, payloads)

    def percent(ours: dict[str, Any], theirs: dict[str, Any]) -> float:
        return round(100 * ours["messages_per_s"] / theirs["messages_per_s"], 1)

    return {
        "engine": engine,
        "engine_parallel": engine_parallel,
        "smtplib": bare,
        "smtplib_parallel": bare_parallel,
        "smtplib_building": building,
        "sink_alone": ceiling,
        "message_bytes": len(template),
        "connections_parallel": SMTP_CONNECTIONS,
        "engine_vs_smtplib": percent(engine, bare),
        "engine_parallel_vs_smtplib": percent(engine_parallel, bare),
        "engine_parallel_vs_smtplib_parallel": percent(engine_parallel, bare_parallel),
        "engine_vs_smtplib_building": percent(engine, building),
    }


# --------------------------------------------------------------------------------------------
# 3. The diff of a big segment
# --------------------------------------------------------------------------------------------


def anti_join_sql(session: WarehouseSession) -> str:
    """The bare diff the plan is compared with: members whose row hash has no snapshot twin.

    The row hash is built exactly as the plan builds it (`activation.segment_rows`),
    so the two count the same members and only the plan's extra work is timed.
    """
    row_hash = row_hash_sql(segment_columns(session, SEGMENT.relation), "s")
    return f"""
select count(*) from (
    select s.profile_id, {row_hash} as row_hash
    from {SEGMENT.relation} as s
) as m
where not exists (
    select 1 from {SCHEMA}.activation_snapshots as snap
    where snap.activation = $activation
      and snap.profile_id = m.profile_id
      and snap.row_hash = m.row_hash
)
"""


def prepare_delivered_state(wiring: Wiring, members: int) -> dict[str, Any]:
    """A first run's plan, then the snapshot and message log a delivered run leaves behind."""
    build_audience(wiring.warehouse, members)
    definition, segment = wiring.engine.definition(ACTIVATION)
    started = time.perf_counter()
    first = plan_run(
        wiring.warehouse,
        definition,
        segment,
        run_id="first",
        now=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1),
        immediate_suppressions=[],
    )
    first_plan_s = time.perf_counter() - started
    with wiring.warehouse.session() as wh:
        wh.execute(
            f"insert into {SCHEMA}.activation_snapshots select activation, profile_id, "
            f"row_hash, planned_at from {SCHEMA}.planned_messages where run_id = 'first'"
        )
        wh.execute(
            f"insert into {SCHEMA}.message_log select message_id, run_id, activation, "
            f"profile_id, channel, address, variant, 'sent', 1, 'sendgrid', null, null, null, "
            f"null, send_after, planned_at, send_after, send_after "
            f"from {SCHEMA}.planned_messages where run_id = 'first'"
        )
    return {"first_plan_s": round(first_plan_s, 3), "first_planned": first.planned}


def churn(wiring: Wiring, members: int) -> dict[str, int]:
    """1% churn: some members leave, some change a column, new profiles join."""
    counts = {change: round(members * share) for change, share in CHURN.items()}
    removed, changed, added = counts["removed"], counts["changed"], counts["added"]
    with wiring.warehouse.session() as wh:
        # Spread over the key range: every 100th member from the start leaves, every 100th
        # from an offset of 50 changes its last product; new profiles get fresh ids.
        wh.execute(
            f"delete from {SEGMENT.relation} where profile_id in (select 'p' || "
            "lpad((i * 100)::varchar, 8, '0') from range($n) t(i))",
            {"n": removed},
        )
        wh.execute(
            f"update {SEGMENT.relation} set last_product = 'product changed' where profile_id "
            "in (select 'p' || lpad((i * 100 + 50)::varchar, 8, '0') from range($n) t(i))",
            {"n": changed},
        )
        wh.execute(
            "insert into analytics.profiles select 'n' || lpad(i::varchar, 8, '0'), "
            "'n' || lpad(i::varchar, 8, '0') || '@example.com', null, 'Newt', 'UTC', true, "
            "'granted', 'never_asked', false, false from range($n) t(i)",
            {"n": added},
        )
        wh.execute(
            f"insert into {SEGMENT.relation} select profile_id, email, first_name, 'product 1' "
            "from analytics.profiles where profile_id like 'n%'"
        )
    return counts


def plan_breakdown(
    warehouse: DuckDBWarehouse, definition: ActivationDefinition, segment: Segment
) -> dict[str, float]:
    """`plan_run`'s steps timed one by one (its own functions, in its order), rolled back."""
    from activation import plan as planning

    now = datetime.now(UTC).replace(tzinfo=None)
    params = planning._params(definition, "breakdown", now)
    steps: dict[str, float] = {}
    started = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal started
        steps[step] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()

    with warehouse.session() as session:
        lap("open the DuckDB file")
        ensure_engine_tables(session)
        session.table_exists(*segment.relation.split(".", 1))
        lap("check the engine's tables")
        members = planning._check_keys(session, segment)
        lap("check the segment's keys (count distinct)")
        planning._refresh_erased_addresses(session, [])
        session.begin()
        planning._refresh_immediate_suppressions(session, [])
        inputs = planning.plan_inputs(session, definition, segment, now)
        session.execute(planning.plan_sql(definition, segment, inputs), params)
        lap("plan statement (diff, guardrails, ids)")
        planning._summarise(session, definition, members, now)
        lap("summarise")
        planning._store(session, definition, "breakdown", now)
        lap("store planned messages and exclusions")
        session.rollback()
    return steps


def diff_round(scratch: Path, members: int, runs: int) -> dict[str, Any]:
    """Set up once, then time the second plan and the bare anti-join `runs` times each."""
    wiring = wire(scratch / "diff", "sendgrid", "personalised", sendgrid_url="http://127.0.0.1:9")
    setup = prepare_delivered_state(wiring, members)
    expected = churn(wiring, members)
    definition, segment = wiring.engine.definition(ACTIVATION)
    timings = []
    for index in range(runs):
        load_before = load_average()
        started = time.perf_counter()
        summary = plan_run(
            wiring.warehouse,
            definition,
            segment,
            run_id=f"second-{index}",
            now=datetime.now(UTC).replace(tzinfo=None),
            immediate_suppressions=[],
        )
        plan_s = time.perf_counter() - started
        found = {"added": summary.added, "removed": summary.removed, "changed": summary.changed}
        if found != expected:
            raise BenchmarkSanityError(f"the plan found {found}, the churn made {expected}")
        with wiring.warehouse.session() as wh:
            sql = anti_join_sql(wh)
            started = time.perf_counter()
            bare = int(wh.scalar(sql, {"activation": ACTIVATION}))
            anti_join_s = time.perf_counter() - started
        if bare != expected["added"] + expected["changed"]:
            raise BenchmarkSanityError(f"the anti-join found {bare} new or changed members")
        timings.append(
            {
                "plan_s": round(plan_s, 3),
                "anti_join_s": round(anti_join_s, 3),
                "planned": summary.planned,
                "plan_steps_s": plan_breakdown(wiring.warehouse, definition, segment),
                "load_before": load_before,
                "load_after": load_average(),
            }
        )
    return {"members": members, "churn": expected, **setup, "timings": timings}


# --------------------------------------------------------------------------------------------
# 4. Peak memory of a million-recipient run, in a subprocess
# --------------------------------------------------------------------------------------------


def zone_at_local_hours(hours: range | tuple[int, ...]) -> str:
    """A fixed-offset zone whose local hour is now one of `hours`."""
    now = datetime.now(UTC)
    for offset in range(-12, 15):
        zone = f"Etc/GMT{-offset:+d}" if offset else "UTC"
        if now.astimezone(ZoneInfo(zone)).hour in hours:
            return zone
    raise BenchmarkSanityError(f"no zone has a local hour in {hours} now")


#: Local hours well inside the default quiet hours (21:00-08:00), and well outside them.
NIGHT_HOURS = (23, 0, 1, 2, 3, 4, 5)
DAY_HOURS = range(10, 18)


#: The steps of a run as the watcher tells them apart (from the run's status in the ops store).
RUN_STEPS = ("start-up", "plan", "enqueue + snapshot", "deliver", "mirror")


class RunWatcher(threading.Thread):
    """Samples a process's RSS and the run's status in the ops store until stopped."""

    def __init__(self, pid: int, ops_store: Path) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.ops_store = ops_store
        self.started = time.perf_counter()
        self.peak_bytes = 0
        self.peak_by_step: dict[str, int] = {}
        self.step_started_s: dict[str, float] = {}
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def _step(self) -> str:
        """Where the run is: its status, and after delivery the mirror (a reason is set)."""
        if not self.ops_store.exists():
            return "start-up"
        try:
            with contextlib.closing(
                sqlite3.connect(f"file:{self.ops_store}?mode=ro", uri=True)
            ) as db:
                row = db.execute(
                    "select status, status_reason from activation_runs order by started_at desc"
                ).fetchone()
        except sqlite3.Error:
            return "start-up"
        if row is None:
            return "start-up"
        status, _reason = row
        names = {
            "planning": "plan",
            "enqueued": "enqueue + snapshot",
            "delivering": "deliver",
            "deferred": "mirror",  # delivered what was due; the mirror follows
            "completed": "mirror",
        }
        return names.get(status, str(status))

    def step_seconds(self, wall_s: float) -> dict[str, float]:
        """How long each step lasted (to the sampling interval), from when it was first seen."""
        starts = sorted(self.step_started_s.items(), key=lambda item: item[1])
        ends = [start for _, start in starts[1:]] + [wall_s]
        return {
            step: round(end - start, 2) for (step, start), end in zip(starts, ends, strict=True)
        }

    def run(self) -> None:
        while not self._stop_event.wait(SAMPLE_INTERVAL_S):
            try:
                rss = self.process.memory_info().rss
            except psutil.Error:
                return
            step = self._step()
            self.step_started_s.setdefault(step, round(time.perf_counter() - self.started, 2))
            self.peak_bytes = max(self.peak_bytes, rss)
            self.peak_by_step[step] = max(self.peak_by_step.get(step, 0), rss)


def rss_round(scratch: Path, recipients: int, index: int) -> dict[str, Any]:
    """One engine run over `recipients` in a child process, watched from here."""
    home = scratch / f"rss-{index}"
    night = zone_at_local_hours(NIGHT_HOURS)
    day = zone_at_local_hours(DAY_HOURS)
    with ServerProcess(_serve_sendgrid, SENDGRID_KEY) as server:
        wiring = wire(
            home, "sendgrid", "personalised", sendgrid_url=server.address, quiet_hours=True
        )
        build_audience(
            wiring.warehouse, recipients, zones=(day, night), first_zone_share=RSS_DUE_SHARE
        )
        del wiring  # the child opens its own connections
        command = [sys.executable, "-m", __name__, "rss-child", str(home), server.address]
        load_before = load_average()
        started = time.perf_counter()
        output = home / "child.log"
        with output.open("w") as log:
            child = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
            watcher = RunWatcher(child.pid, home / "ops.sqlite")
            watcher.start()
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - started
            watcher.stop()
        child.returncode = os.waitstatus_to_exitcode(status)
        text = output.read_text(errors="replace")
        if child.returncode != 0:
            raise BenchmarkSanityError(
                f"the child run failed ({child.returncode}):\n{text[-3000:]}"
            )
        result = json.loads(text.strip().splitlines()[-1])
        received = len(server.ask("received"))
    due = round(recipients * RSS_DUE_SHARE)
    if result["counts"] != {"sent": due, "planned": recipients - due} or received != due:
        raise BenchmarkSanityError(
            f"expected {due} sent now and the rest waiting: the ledger says {result['counts']}, "
            f"the server received {received}"
        )
    shutil.rmtree(home)
    return {
        "recipients": recipients,
        "sent": due,
        "deferred": result["plan"]["deferred"],
        "wall_s": round(wall, 2),
        "peak_rss_gib": round(watcher.peak_bytes / GIB, 3),
        "peak_rss_kernel_gib": round(usage.ru_maxrss * 1024 / GIB, 3),
        "peak_by_step_gib": {k: round(v / GIB, 3) for k, v in watcher.peak_by_step.items()},
        "step_started_s": watcher.step_started_s,
        "step_seconds": watcher.step_seconds(wall),
        "zones": {"sent_now": day, "deferred": night},
        "load_before": load_before,
        "load_after": load_average(),
    }


def rss_child(home: Path, sendgrid_url: str) -> None:
    """Child process: run the activation prepared in `home`; print its report as JSON."""
    wiring = wire(
        home, "sendgrid", "personalised", sendgrid_url=sendgrid_url, quiet_hours=True, define=False
    )
    report = wiring.engine.run(ACTIVATION, requested_by="bench")
    assert report.plan is not None
    print(
        json.dumps(
            {
                "status": report.status,
                "counts": report.counts,
                "plan": dataclasses.asdict(report.plan),
            }
        )
    )


# --------------------------------------------------------------------------------------------
# Where the time goes: one engine run under pyinstrument
# --------------------------------------------------------------------------------------------

#: Steps of a run, as (label, path suffix of the module, function). A step's time is the
#: inclusive time of its frames (counted once when the function recurses); indented steps
#: are parts of the step above them.
PROFILE_STEPS: tuple[tuple[str, str, str], ...] = (
    ("plan (DuckDB)", "activation/engine.py", "_plan"),
    ("enqueue into the outbox + snapshot", "activation/engine.py", "_enqueue"),
    ("  outbox inserts (SQLite)", "connectors/ops_store/outbox.py", "enqueue_messages"),
    ("  snapshot update (DuckDB)", "activation/engine.py", "_update_snapshot"),
    ("deliver", "activation/deliver.py", "deliver"),
    ("  claim + final gate (SQLite)", "connectors/ops_store/outbox.py", "claim_due"),
    ("  render", "activation/message_renderer.py", "render"),
    ("    Jinja2 parts (subject, html)", "activation/render/sandbox.py", "render"),
    ("    text alternative from html", "activation/render/text_alternative.py", "text_from_html"),
    ("    unsubscribe token", "activation/render/unsubscribe.py", "make_unsubscribe_token"),
    ("    address check", "activation/render/addresses.py", "check_address"),
    ("    attributes json.loads", "json/__init__.py", "loads"),
    ("  destination send_batch", "connectors/destinations/base.py", "send_batch"),
    ("    email_parts (validation)", "connectors/destinations/email_parts.py", "email_parts"),
    ("    SendGrid: pack requests", "connectors/destinations/sendgrid.py", "plan_requests"),
    ("    SendGrid request body", "connectors/destinations/sendgrid.py", "_mail_send_body"),
    ("      shared body + substitutions", "connectors/destinations/shared_body.py", "shared_body"),
    ("    httpx build_request (JSON encode)", "httpx/_client.py", "build_request"),
    ("    HTTP exchange (send + wait)", "connectors/destinations/http_exchange.py", "exchange"),
    ("    MIME write", "connectors/destinations/mime.py", "mime_bytes"),
    (
        "      MIME build (email package, non-ASCII headers)",
        "connectors/destinations/mime.py",
        "build_mime",
    ),
    ("    MIME as_bytes", "email/message.py", "as_bytes"),
    ("    SMTP transaction", "connectors/destinations/smtp.py", "_deliver"),
    ("  record outcomes (SQLite)", "connectors/ops_store/outbox.py", "record_outcomes"),
    ("mirror to the warehouse", "activation/mirror.py", "mirror_run"),
    ("SQLite commits (all steps)", "sqlalchemy/orm/session.py", "commit"),
)


def step_times(root: Any) -> dict[str, float]:
    """Inclusive seconds per `PROFILE_STEPS` label in a pyinstrument frame tree."""
    totals = dict.fromkeys((label for label, _, _ in PROFILE_STEPS), 0.0)

    def visit(frame: Any, active: frozenset[str]) -> None:
        path = (frame.file_path or "").replace("\\", "/")
        matched = {
            label
            for label, suffix, function in PROFILE_STEPS
            if frame.function == function and path.endswith(suffix) and label not in active
        }
        for label in matched:
            totals[label] += frame.time
        for child in frame.children:
            visit(child, active | matched)

    visit(root, frozenset())
    return totals


#: What `profile` can profile: a SendGrid case (template, keep-alive server) or the SMTP path.
PROFILE_KINDS: dict[str, tuple[str, bool] | None] = {
    "sendgrid": ("personalised", False),
    "sendgrid-keep-alive": ("personalised", True),
    "sendgrid-shared-body": ("shared body", False),
    "smtp": None,
}


def profile_run(kind: str, messages: int) -> dict[str, Any]:
    """Profile one engine run of `messages` recipients (a `PROFILE_KINDS` key)."""
    from pyinstrument import Profiler

    if kind not in PROFILE_KINDS:
        raise ValueError(f"unknown profile {kind!r}; choose one of {', '.join(PROFILE_KINDS)}")
    case = PROFILE_KINDS[kind]
    scratch = Path(tempfile.mkdtemp(prefix="tidemark-bench-profile-"))
    server = (
        ServerProcess(_serve_smtp)
        if case is None
        else ServerProcess(_serve_sendgrid, SENDGRID_KEY, case[1])
    )
    # The first arrow conversion in a process imports pandas (over a second): not the run's.
    import pandas  # noqa: F401

    try:
        with server:
            if case is None:
                wiring = wire(scratch, "smtp", "personalised", smtp=server.address)
            else:
                wiring = wire(scratch, "sendgrid", case[0], sendgrid_url=server.address)
            build_audience(wiring.warehouse, messages)
            load_before = load_average()
            profiler = Profiler(interval=0.001)
            profiler.start()
            report, seconds = timed_engine_run(wiring)
            session = profiler.stop()
            received = server.ask("take_received" if case is None else "received")
        check_delivered(f"profile/{kind}", wiring, report, messages, received)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    root = session.root_frame()
    steps = step_times(root)
    return {
        "kind": kind,
        "messages": messages,
        "seconds": round(seconds, 3),
        "profiled_s": round(root.time if root is not None else 0.0, 3),
        "steps_s": {k: round(v, 3) for k, v in steps.items() if v > 0},
        "steps_us_per_message": {
            k: round(v / messages * 1e6, 1) for k, v in steps.items() if v > 0
        },
        "load_before": load_before,
        "load_after": load_average(),
        "text": profiler.output_text(unicode=True, color=False, show_all=False),
    }


# --------------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------------


def run(options: BenchOptions) -> BenchReport:
    sendgrid_messages = options.scaled(SENDGRID_MESSAGES)
    smtp_messages = options.scaled(SMTP_MESSAGES)
    diff_members = options.scaled(DIFF_MEMBERS, minimum=1_000)
    rss_recipients = options.scaled(RSS_RECIPIENTS, minimum=1_000)
    ceiling_requests = min(sendgrid_messages, CEILING_REQUESTS)
    at_full_scale = options.scale == 1.0
    runs: list[dict[str, Any]] = []
    sendgrid: dict[str, list[dict[str, Any]]] = {case_label(*c): [] for c in SENDGRID_CASES}
    ceilings: dict[str, list[dict[str, Any]]] = {"HTTP/1.0": [], "keep-alive": []}
    smtp, rss, due_passes = [], [], []
    with tempfile.TemporaryDirectory(prefix="tidemark-bench-activation-") as tmp:
        scratch = Path(tmp)
        print(f"diff: {diff_members:,} members, load {load_average()}", flush=True)
        diff = diff_round(scratch, diff_members, options.runs)
        for index in range(options.runs):
            print(f"run {index + 1}/{options.runs}: load {load_average()}", flush=True)
            for template, keep_alive in SENDGRID_CASES:
                sendgrid[case_label(template, keep_alive)].append(
                    sendgrid_run(scratch, template, sendgrid_messages, index, keep_alive=keep_alive)
                )
            for mode, rows in ceilings.items():
                rows.append(
                    sendgrid_server_ceiling(ceiling_requests, keep_alive=mode == "keep-alive")
                )
            due_passes.append(due_pass_run(scratch, sendgrid_messages, index))
            smtp.append(smtp_round(scratch, smtp_messages, index))
            rss.append(rss_round(scratch, rss_recipients, index))
            runs.append(
                {
                    "sendgrid": {label: rows[-1] for label, rows in sendgrid.items()},
                    "sendgrid_server_alone": {mode: rows[-1] for mode, rows in ceilings.items()},
                    "due_pass": due_passes[-1],
                    "smtp": smtp[-1],
                    "rss": rss[-1],
                    "diff": diff["timings"][index],
                }
            )
            runs[-1]["load_before"] = runs[-1]["sendgrid"]["personalised"]["load_before"]
            runs[-1]["load_after"] = rss[-1]["load_after"]
    return BenchReport(
        name="activation",
        title=(
            f"Activation engine: {sendgrid_messages:,} (SendGrid) / {smtp_messages:,} (SMTP) "
            f"messages, {diff_members:,}-member diff, {rss_recipients:,}-recipient run"
        ),
        options=options,
        figures=_figures(sendgrid, ceilings, due_passes, smtp, diff, rss, at_full_scale),
        runs=runs,
        context={
            "goals_apply": at_full_scale,
            "sendgrid_messages": sendgrid_messages,
            "smtp_messages": smtp_messages,
            "sendgrid_server_alone_requests": ceiling_requests,
            "diff_members": diff_members,
            "diff_setup": {k: v for k, v in diff.items() if k != "timings"},
            "rss_recipients": rss_recipients,
            "rss_due_share": RSS_DUE_SHARE,
            "destination_rate_limit_per_s": UNLIMITED_RATE,
        },
    )


def _series(rows: list[dict[str, Any]], *path: str) -> tuple[float, ...]:
    """One value per run, found by key path."""
    values = []
    for row in rows:
        value: Any = row
        for key in path:
            value = value[key]
        values.append(float(value))
    return tuple(values)


def _figures(
    sendgrid: dict[str, list[dict[str, Any]]],
    ceilings: dict[str, list[dict[str, Any]]],
    due_passes: list[dict[str, Any]],
    smtp: list[dict[str, Any]],
    diff: dict[str, Any],
    rss: list[dict[str, Any]],
    at_full_scale: bool,
) -> list[Figure]:
    """The report's figures. Goals are upper bounds, so floors are stated as their inverse:
    ≥ 10,000 messages/s is ≤ 100 µs per message, ≥ 80% of smtplib is ≤ 1.25x its time."""

    def goal(value: float) -> float | None:
        return value if at_full_scale else None

    figures = []
    for label, rows in sendgrid.items():
        figures += [
            Figure(
                f"SendGrid, {label}: end to end",
                "msg/s",
                _series(rows, "messages_per_s"),
                note=f"{rows[0]['messages']:,} messages in {rows[0]['requests']:,} requests",
            ),
            Figure(
                "  time per message",
                "µs",
                tuple(1e6 / v for v in _series(rows, "messages_per_s")),
                goal(1e6 / THROUGHPUT_GOAL),
                note=f"goal ≥ {THROUGHPUT_GOAL:,.0f} msg/s",
            ),
            Figure("  deliver", "s", _series(rows, "deliver_s")),
            Figure("  plan + enqueue + mirror", "s", _series(rows, "plan_enqueue_mirror_s")),
        ]
    for mode, rows in ceilings.items():
        figures.append(
            Figure(
                f"SendGrid test server alone, {mode}",
                "req/s",
                _series(rows, "requests_per_s"),
                note="bare httpx loop, one message per request",
            )
        )
    figures += [
        Figure(
            "deferred run (all in their night): plan + enqueue + mirror",
            "s",
            _series(due_passes, "run_s"),
            note=f"{due_passes[0]['messages']:,} messages, none sent",
        ),
        Figure(
            "  its due pass at dawn (deliver_due)",
            "msg/s",
            _series(due_passes, "pass_messages_per_s"),
            note="what the deferred_deliveries_sensor launches",
        ),
    ]
    engine_rate = _series(smtp, "engine", "messages_per_s")
    bare_rate = _series(smtp, "smtplib", "messages_per_s")
    figures += [
        Figure(
            "SMTP: engine",
            "msg/s",
            engine_rate,
            note=f"{smtp[0]['engine']['messages']:,} messages of {smtp[0]['message_bytes']:,} B",
        ),
        Figure(
            "SMTP: bare smtplib loop, bytes made beforehand",
            "msg/s",
            bare_rate,
            note="one connection, sendmail per message",
        ),
        Figure("  engine / smtplib", "%", _series(smtp, "engine_vs_smtplib")),
        Figure(
            "  engine time / smtplib time",
            "x",
            tuple(b / e for e, b in zip(engine_rate, bare_rate, strict=True)),
            goal(1 / SMTP_RATIO_GOAL),
            note=f"goal: engine ≥ {SMTP_RATIO_GOAL:.0%} of smtplib",
        ),
        Figure(
            f"SMTP: engine, {SMTP_CONNECTIONS} connections",
            "msg/s",
            _series(smtp, "engine_parallel", "messages_per_s"),
            note="the destination's `connections` setting",
        ),
        Figure(
            f"SMTP: bare smtplib loop, {SMTP_CONNECTIONS} connections",
            "msg/s",
            _series(smtp, "smtplib_parallel", "messages_per_s"),
            note="one thread per connection",
        ),
        Figure(
            f"  engine ({SMTP_CONNECTIONS} connections) / smtplib (1)",
            "%",
            _series(smtp, "engine_parallel_vs_smtplib"),
        ),
        Figure(
            f"  engine / smtplib, both {SMTP_CONNECTIONS} connections",
            "%",
            _series(smtp, "engine_parallel_vs_smtplib_parallel"),
        ),
        Figure(
            "SMTP: smtplib loop building each EmailMessage",
            "msg/s",
            _series(smtp, "smtplib_building", "messages_per_s"),
            note="stdlib email package, default policy",
        ),
        Figure("  engine / that loop", "%", _series(smtp, "engine_vs_smtplib_building")),
        Figure(
            "SMTP: sink alone (raw socket client)",
            "msg/s",
            _series(smtp, "sink_alone", "messages_per_s"),
            note="aiosmtpd, handler keeps the message id only",
        ),
    ]
    timings = diff["timings"]
    plan = _series(timings, "plan_s")
    anti = _series(timings, "anti_join_s")
    figures += [
        Figure(
            f"diff: plan_run, {diff['members']:,} members, 1% churn",
            "s",
            plan,
            goal(DIFF_GOAL_S),
        ),
        Figure("diff: bare DuckDB anti-join", "s", anti),
        Figure(
            "diff: plan_run / anti-join", "x", tuple(p / a for p, a in zip(plan, anti, strict=True))
        ),
        Figure(
            f"peak RSS, {rss[0]['recipients']:,}-recipient run",
            "GiB",
            _series(rss, "peak_rss_gib"),
            goal(RSS_GOAL_GIB),
            note=f"psutil every {SAMPLE_INTERVAL_S} s; {rss[0]['sent']:,} sent, rest deferred",
        ),
        *[
            Figure(
                f"  during {step}",
                "GiB",
                tuple(run["peak_by_step_gib"].get(step, 0.0) for run in rss),
            )
            for step in RUN_STEPS
        ],
        Figure("  kernel high-water mark (wait4)", "GiB", _series(rss, "peak_rss_kernel_gib")),
        Figure("  wall of that run", "s", _series(rss, "wall_s")),
        *[
            Figure(f"  {step}", "s", tuple(run["step_seconds"].get(step, 0.0) for run in rss))
            for step in RUN_STEPS
        ],
    ]
    return figures


def main(argv: list[str]) -> int:
    """Entry points for child processes and for profiling (see the module docstring)."""
    if argv[:1] == ["rss-child"]:
        rss_child(Path(argv[1]), argv[2])
        return 0
    if argv[:1] == ["profile"]:
        kind = argv[1] if len(argv) > 1 else "sendgrid"
        messages = int(argv[2]) if len(argv) > 2 else 20_000
        result = profile_run(kind, messages)
        print(result.pop("text"))
        print(json.dumps(result, indent=2))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
