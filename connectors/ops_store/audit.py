"""The audit trail: record every state change, list them back for admins.

Entries are added inside the caller's session, so a change and its audit entry commit (or
roll back) together: there is never a change without its entry, nor an entry for a change
that did not happen. Nothing here commits.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.ops_store.models import AuditEntry


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    """Append one audit entry: `actor` did `action` to `resource_type`/`resource_id`.

    `before`/`after` are JSON snapshots of the resource (None when it did not exist / no
    longer exists). They must never hold secrets: pass a token's name, not the token.
    """
    for label, text in (
        ("actor", actor),
        ("action", action),
        ("resource_type", resource_type),
        ("resource_id", resource_id),
    ):
        if not text or not text.strip():
            raise ValueError(f"audit entry needs a non-empty {label}")
    for label, snapshot in (("before", before), ("after", after)):
        _require_json_object(label, snapshot, f"{resource_type}/{resource_id}")
    entry = AuditEntry(
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


def list_audit(
    session: Session,
    *,
    resource_type: str | None = None,
    resource_id: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Audit entries matching every given filter, newest first."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    query = select(AuditEntry)
    if resource_type is not None:
        query = query.where(AuditEntry.resource_type == resource_type)
    if resource_id is not None:
        query = query.where(AuditEntry.resource_id == resource_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


def _require_json_object(label: str, snapshot: dict[str, Any] | None, resource: str) -> None:
    if snapshot is None:
        return
    if not isinstance(snapshot, dict):
        raise TypeError(
            f"audit {label} of {resource} must be a JSON object (dict) or None, "
            f"got {type(snapshot).__name__}"
        )
    try:
        json.dumps(snapshot, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit {label} of {resource} is not valid JSON: {exc}") from None
