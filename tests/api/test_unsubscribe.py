"""One-click unsubscribe through the link a real email carried, honoured before the next send."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from activation.data_subjects import request_erasure
from activation.render.unsubscribe import make_unsubscribe_token
from api.app import create_app
from connectors.landing import LocalLandingZone
from connectors.loader.conform import read_parquet
from connectors.ops_store import is_suppressed, list_audit
from tests.activation.audience import add_profile
from tests.activation.conftest import (  # noqa: F401 - fixtures
    define,
    make_engine,
    received_by_address,
    sessions,
    settings,
    sink,
    warehouse,
)
from tests.connectors.destinations.servers.smtp_sink import AUTH_WITHOUT_TLS_WARNING

pytestmark = pytest.mark.filterwarnings(AUTH_WITHOUT_TLS_WARNING)
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def unsubscribe_path(smtp_sink, address):
    """The path of the one-click URL in the List-Unsubscribe header of `address`'s mail."""
    mail = next(m.message for m in smtp_sink.received if address in m.rcpt_tos)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.search(r"<(https?://[^>]+)>", mail["List-Unsubscribe"]).group(1)
    return urlsplit(url).path


@pytest.fixture
def sent(settings, warehouse, sessions, sink):  # noqa: F811
    """Ann and Bob each got the welcome email; the API is up over the same home."""
    add_profile(warehouse, "ann")
    add_profile(warehouse, "bob")
    define(sessions)
    engine = make_engine(settings, warehouse, sessions)
    assert engine.run("welcome", requested_by="test").counts == {"sent": 2}
    client = TestClient(create_app(settings), follow_redirects=False)
    return engine, client


def test_unsubscribing_between_plan_and_delivery_stops_the_next_send(
    sent,
    settings,  # noqa: F811
    sessions,  # noqa: F811
    sink,  # noqa: F811
    warehouse,  # noqa: F811
):
    engine, client = sent
    path = unsubscribe_path(sink, "bob@example.com")
    define(sessions, name="news", limits={"max_change": 1})
    held = engine.run("news", requested_by="test")
    assert held.status == "awaiting_approval"  # planned, Bob included, nothing sent yet

    response = client.post(path, data=ONE_CLICK)

    assert response.status_code == 200
    assert "You are unsubscribed" in response.text
    engine.approve(held.run_id, actor="admin")
    assert received_by_address(sink) == {"ann@example.com": 2, "bob@example.com": 1}
    states = warehouse.query_arrow(
        "select profile_id, state, error_code from tidemark.message_log "
        "where run_id = ? order by profile_id",
        [held.run_id],
    ).to_pylist()
    assert states == [
        {"profile_id": "ann", "state": "sent", "error_code": None},
        {"profile_id": "bob", "state": "excluded", "error_code": "suppressed"},
    ]
    landing = LocalLandingZone(settings.landing_location)
    [event_file] = landing.list("message_events")
    event = read_parquet(landing.read(event_file.key)).to_pylist()
    assert [(e["event_type"], e["profile_id"], e["recipient"]) for e in event] == [
        ("unsubscribe", "bob", "bob@example.com")
    ]


def test_a_get_shows_a_button_and_unsubscribes_no_one(sent, sessions, sink):  # noqa: F811
    _, client = sent
    path = unsubscribe_path(sink, "ann@example.com")

    page = client.get(path)

    assert page.status_code == 200
    assert '<form method="post">' in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    with sessions() as session:
        assert not is_suppressed(session, "email", "ann@example.com")


def test_the_confirmation_button_posts_the_one_click_body(sent, sessions, sink):  # noqa: F811
    _, client = sent
    path = unsubscribe_path(sink, "ann@example.com")
    page = client.get(path).text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]+)"', page))

    assert client.post(path, data=fields).status_code == 200
    with sessions() as session:
        assert is_suppressed(session, "email", "ann@example.com")


def test_repeated_clicks_suppress_once_and_audit_once(sent, sessions, sink):  # noqa: F811
    _, client = sent
    path = unsubscribe_path(sink, "ann@example.com")

    assert client.post(path, data=ONE_CLICK).status_code == 200
    assert client.post(path, data=ONE_CLICK).status_code == 200

    with sessions() as session:
        entries = list_audit(session, resource_type="suppression")
        assert [(e.actor, e.action, e.after["reason"]) for e in entries] == [
            ("recipient:one-click", "suppression.create", "unsubscribe")
        ]
        assert "ann" not in entries[0].resource_id  # a hash, never the address


def test_a_post_without_the_one_click_body_changes_nothing(sent, sessions, sink):  # noqa: F811
    _, client = sent
    path = unsubscribe_path(sink, "ann@example.com")

    response = client.post(path, data={"List-Unsubscribe": "yes"})

    assert response.status_code == 400
    assert "List-Unsubscribe=One-Click" in response.text
    with sessions() as session:
        assert not is_suppressed(session, "email", "ann@example.com")


@pytest.mark.parametrize("tamper", ["forged", "edited", "garbage"])
def test_a_link_we_did_not_sign_is_refused(sent, settings, sessions, sink, tamper):  # noqa: F811
    _, client = sent
    path = unsubscribe_path(sink, "ann@example.com")
    token = path.rsplit("/", 1)[1]
    if tamper == "forged":  # a well-formed token for Bob, signed with another key
        token = make_unsubscribe_token(b"x" * 32, "m", "bob", "email")
    elif tamper == "edited":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    else:
        token = "not-a-token"

    response = client.post(f"/u/{token}", data=ONE_CLICK)

    assert response.status_code == 400
    assert "not valid" in response.text
    with sessions() as session:
        assert not is_suppressed(session, "email", "ann@example.com")
        assert not is_suppressed(session, "email", "bob@example.com")


def test_a_link_whose_message_left_the_outbox_suppresses_the_profiles_address(
    sent,
    settings,  # noqa: F811
    sessions,  # noqa: F811
):
    _, client = sent
    token = make_unsubscribe_token(settings.unsubscribe_key(), "long-gone", "bob", "email")

    response = client.post(f"/u/{token}", data=ONE_CLICK)

    assert response.status_code == 200
    with sessions() as session:
        assert is_suppressed(session, "email", "bob@example.com")
        assert not is_suppressed(session, "email", "ann@example.com")


def test_an_old_link_of_an_erased_profile_lands_nothing_about_it(
    sent,
    settings,  # noqa: F811
    sessions,  # noqa: F811
    sink,  # noqa: F811
    warehouse,  # noqa: F811
):
    _, client = sent
    path = unsubscribe_path(sink, "bob@example.com")
    request_erasure(warehouse, sessions, "bob", actor="token:admin")

    response = client.post(path, data=ONE_CLICK)

    assert response.status_code == 200
    assert LocalLandingZone(settings.landing_location).list("message_events") == []
    with sessions() as session:
        assert is_suppressed(session, "email", "bob@example.com")
