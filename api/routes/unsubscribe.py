"""One-click unsubscribe (RFC 8058) at the link the renderer puts in every marketing email.

The renderer signs `<public_base_url>/u/<token>` (`activation.render.unsubscribe`), so this
router serves exactly `/u/{token}`, without a login:

- `POST` with the body `List-Unsubscribe=One-Click` (what mailbox providers send, and what
  the confirmation page's button sends) unsubscribes at once: an immediate suppression in
  the ops store, which the plan and the send-time gate both read, so the next send already
  skips the address. An `unsubscribe` message event is landed too, so the warehouse's
  `suppressions` model learns it at the next build. The answer is a plain 200, never a
  redirect (RFC 8058 section 3.2).
- `GET` only shows a page with a button. Mail scanners and link previewers fetch every link
  in a message; a GET that unsubscribed would unsubscribe people who never clicked.
"""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from activation.feedback import FeedbackEvent, FeedbackType, land_feedback
from activation.plan import PROFILES
from activation.render.unsubscribe import (
    InvalidUnsubscribeTokenError,
    UnsubscribeClaim,
    verify_unsubscribe_token,
)
from api.landing import Landing
from api.state import AppState, State
from connectors.destinations.message import Channel
from connectors.landing import LandingZone
from connectors.ops_store import address_hash, is_suppressed, record_audit, suppress_immediately
from connectors.ops_store.delivery_models import OutboxMessage
from connectors.ops_store.erasure_requests import was_erased
from connectors.warehouse.base import Warehouse
from connectors.warehouse.duckdb import WarehouseBusyError

log = logging.getLogger(__name__)

ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"
UNSUBSCRIBE_REASON = "unsubscribe"
PROVIDER = "tidemark"
"""`provider` of the message events this endpoint lands: the recipient told us directly."""
ACTOR = "recipient:one-click"
PROFILE_ADDRESS_COLUMNS = {Channel.EMAIL: "email", Channel.SMS: "phone"}

router = APIRouter(tags=["unsubscribe"])


def _page(title: str, body: str, status_code: int = status.HTTP_200_OK) -> HTMLResponse:
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.6rem 1.2rem}}</style></head>
<body><h1>{html.escape(title)}</h1>{body}</body></html>"""
    return HTMLResponse(document, status_code=status_code, headers={"Cache-Control": "no-store"})


def _invalid_link(error: InvalidUnsubscribeTokenError) -> HTMLResponse:
    return _page(
        "This unsubscribe link is not valid",
        f"<p>{html.escape(str(error))}. Use the link in the most recent message you "
        "received, or reply to it and ask to be removed.</p>",
        status.HTTP_400_BAD_REQUEST,
    )


def _claim(state: AppState, token: str) -> UnsubscribeClaim:
    return verify_unsubscribe_token(state.settings.unsubscribe_key(), token)


@router.get("/u/{token}", response_class=HTMLResponse, summary="Unsubscribe confirmation page")
def unsubscribe_page(token: str, state: State) -> HTMLResponse:
    """A page with one button that POSTs the one-click body; viewing it changes nothing."""
    try:
        _claim(state, token)
    except InvalidUnsubscribeTokenError as error:
        return _invalid_link(error)
    return _page(
        "Unsubscribe",
        "<p>Stop receiving these messages?</p>"
        '<form method="post">'
        f'<input type="hidden" name="{ONE_CLICK_FIELD}" value="{ONE_CLICK_VALUE}">'
        '<button type="submit">Unsubscribe</button></form>',
    )


def _sent_to(session: Session, claim: UnsubscribeClaim) -> str | None:
    """The address the message went to, from the outbox (None once it is gone)."""
    message = session.get(OutboxMessage, claim.message_id)
    if message is None or message.profile_id != claim.profile_id:
        return None
    return message.address


def _current_address(warehouse: Warehouse, claim: UnsubscribeClaim) -> str | None:
    """The profile's address on the channel now, for a message the outbox no longer holds.

    A read of the profiles mart; while a build holds the warehouse there is no answer, and
    the landed event alone carries the unsubscribe (into `suppressions` at the next build).
    """
    column = PROFILE_ADDRESS_COLUMNS.get(claim.channel)
    if column is None:
        return None
    try:
        with warehouse.session() as session:
            if not session.table_exists(*PROFILES.split(".")):
                return None
            found = session.scalar(
                f"select {column} from {PROFILES} where profile_id = ?", [claim.profile_id]
            )
    except WarehouseBusyError:
        log.warning("warehouse busy: unsubscribe of %s waits for the next build", claim.message_id)
        return None
    return found if isinstance(found, str) and found.strip() else None


def _suppressible(channel: Channel, address: str) -> bool:
    """Whether the address can be held as a suppression (a webhook has none of its own)."""
    if channel not in PROFILE_ADDRESS_COLUMNS:
        return False
    try:
        address_hash(channel, address)
    except ValueError:
        return False
    return True


def _unsubscribe(state: AppState, landing: LandingZone, claim: UnsubscribeClaim) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    with state.sessions() as session:
        if was_erased(session, claim.profile_id):
            return  # already suppressed for good; an event would bring the id back
        address = _sent_to(session, claim)
    if address is None:
        address = _current_address(state.warehouse, claim)
    if address is not None and not _suppressible(claim.channel, address):
        address = None
    with state.sessions.begin() as session:
        if address and not is_suppressed(session, claim.channel, address):
            suppress_immediately(
                session, channel=claim.channel, address=address, reason=UNSUBSCRIBE_REASON
            )
            record_audit(
                session,
                actor=ACTOR,
                action="suppression.create",
                resource_type="suppression",
                resource_id=f"{claim.channel}:{address_hash(claim.channel, address)}",
                before=None,
                after={"reason": UNSUBSCRIBE_REASON, "message_id": claim.message_id},
            )
    # The provider event id makes repeats of one link one event downstream.
    land_feedback(
        landing,
        [
            FeedbackEvent(
                provider=PROVIDER,
                event_type=FeedbackType.UNSUBSCRIBE,
                occurred_at=now,
                message_id=claim.message_id,
                is_matched=True,
                recipient=address,
                provider_event_id=f"one-click:{claim.message_id}",
                channel=claim.channel.value,
                profile_id=claim.profile_id,
            )
        ],
    )


@router.post("/u/{token}", response_class=HTMLResponse, summary="One-click unsubscribe")
async def unsubscribe(token: str, request: Request, state: State, landing: Landing) -> HTMLResponse:
    """Unsubscribe now: the body must be `List-Unsubscribe=One-Click` (RFC 8058)."""
    try:
        claim = await run_in_threadpool(_claim, state, token)
    except InvalidUnsubscribeTokenError as error:
        return _invalid_link(error)
    form = await request.form(max_files=0, max_fields=10)
    if form.get(ONE_CLICK_FIELD) != ONE_CLICK_VALUE:
        return _page(
            "Unsubscribe request not understood",
            f"<p>A one-click unsubscribe must send <code>{ONE_CLICK_FIELD}={ONE_CLICK_VALUE}"
            "</code> (RFC 8058).</p>",
            status.HTTP_400_BAD_REQUEST,
        )
    await run_in_threadpool(_unsubscribe, state, landing, claim)
    return _page("You are unsubscribed", "<p>You will not receive these messages again.</p>")
