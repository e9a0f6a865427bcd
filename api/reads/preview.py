"""Preview a message as one segment member would receive it (nothing is planned or sent).

Used for saved activations and for drafts in the create flow alike: the definition's
template is compiled and rendered through the engine's own renderer, with a real member's
row from the segment model, so the preview is what the run would send. Unless one is asked
for, the member is one the run would message (consented, not suppressed, a valid address:
the plan's own guardrail expression), so the sample is never someone the run skips.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from activation.definition import ActivationDefinition
from activation.segment_rows import attributes_sql, segment_columns
from api.reads.segments import find_segment, member_reason_sql, members_with_reasons_sql
from connectors.destinations.message import Channel
from connectors.ops_store.outbox import ClaimedMessage

if TYPE_CHECKING:
    from api.state import AppState

PREVIEW_MESSAGE_ID = "preview"
ADDRESS_COLUMN = {Channel.EMAIL: "email", Channel.SMS: "phone"}


class PreviewError(ValueError):
    """Nothing to preview (no such member, an empty segment) or a template that fails."""


class MessagePreview(BaseModel):
    profile_id: str
    channel: str
    to: str
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    from_address: str | None = None
    headers: dict[str, str] = {}
    payload: dict[str, Any] | None = None
    excluded_reason: str | None = (
        None  # why a run would not send it to this member (None: it would)
    )


def _member(
    state: AppState, relation: str, channel: Channel, profile_id: str | None
) -> dict[str, Any]:
    """The member to preview with: `profile_id`, or the first the run would message (by id),
    or the first of all when nobody is reachable; with why the run would exclude them."""
    where = "where s.profile_id = $profile_id" if profile_id is not None else ""
    params = {"channel": channel.value}
    if profile_id is not None:
        params["profile_id"] = profile_id
    with state.reads.warehouse.session() as session:
        members = members_with_reasons_sql(session, relation, channel)
        reason = member_reason_sql(session, channel)
        # The run's own row document (not DuckDB's to_json): the same on every engine, and
        # the same text the renderer gets when the run sends.
        attributes = attributes_sql(segment_columns(session, relation), "s")
        rows = session.query_arrow(
            f"select s.profile_id, {attributes} as attributes, "
            f"{reason} as excluded_reason {members} {where} "
            f"order by excluded_reason is not null, s.profile_id limit 1",
            params,
        ).to_pylist()
    if not rows:
        raise PreviewError(
            f"profile {profile_id!r} is not a member of {relation}"
            if profile_id is not None
            else f"{relation} has no members to preview with"
        )
    return dict(rows[0])


def preview_message(
    state: AppState, definition: ActivationDefinition, profile_id: str | None = None
) -> MessagePreview:
    """Render `definition`'s message for `profile_id` (or the segment's first reachable member)."""
    segment = find_segment(state.manifest(), definition.segment)
    member = _member(state, segment.relation, definition.channel, profile_id)
    row = json.loads(member["attributes"])
    column = ADDRESS_COLUMN.get(definition.channel)
    address = str(row.get(column) or member["profile_id"]) if column else member["profile_id"]
    claimed = ClaimedMessage(
        PREVIEW_MESSAGE_ID,
        member["profile_id"],
        definition.channel.value,
        address,
        "default",
        member["attributes"],
        0,
    )
    try:
        rendered, failures = state.engine.renderer_for(definition)([claimed])
    except ValueError as error:
        raise PreviewError(f"the template cannot be compiled: {error}") from error
    if failures or not rendered:
        reason = failures.get(PREVIEW_MESSAGE_ID, "nothing was rendered")
        raise PreviewError(f"the message cannot be rendered for this member: {reason}")
    message = rendered[0]
    return MessagePreview(
        profile_id=message.profile_id,
        channel=message.channel.value,
        to=message.to,
        subject=message.subject,
        html=message.html,
        text=message.text,
        from_address=message.from_address,
        headers=message.headers,
        payload=message.payload,
        excluded_reason=member["excluded_reason"],
    )
