"""Where activations come from: dbt exposures (as code) and the ops store (created at run time).

A name is unique across both: an activation created through the API may not shadow one the
data team declared in dbt.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from activation.definition import ActivationDefinition, from_dbt_exposures
from activation.segments import Segment
from connectors.ops_store.audit import record_audit
from connectors.ops_store.column_types import utc_now
from connectors.ops_store.delivery_models import StoredActivation


class UnknownActivationError(LookupError):
    """No activation has this name; the message lists the known ones."""


def list_activations(manifest: dict[str, Any], session: Session) -> list[ActivationDefinition]:
    declared = from_dbt_exposures(manifest)
    stored = [
        ActivationDefinition.model_validate(row.definition)
        for row in session.execute(select(StoredActivation)).scalars()
    ]
    return sorted([*declared, *stored], key=lambda a: a.name)


def get_activation(name: str, manifest: dict[str, Any], session: Session) -> ActivationDefinition:
    for activation in list_activations(manifest, session):
        if activation.name == name:
            return activation
    known = ", ".join(a.name for a in list_activations(manifest, session)) or "none yet"
    raise UnknownActivationError(f"no activation named {name!r} (known: {known})")


def create_activation(
    session: Session,
    definition: ActivationDefinition,
    *,
    actor: str,
    manifest: dict[str, Any],
    segments: list[Segment],
) -> ActivationDefinition:
    """Store an activation created at run time, after checking what it refers to."""
    if any(a.name == definition.name for a in from_dbt_exposures(manifest)):
        raise ValueError(f"activation {definition.name!r} is declared in dbt; change it there")
    by_name = {s.name: s for s in segments}
    segment = by_name.get(definition.segment)
    if segment is None:
        known = ", ".join(sorted(by_name)) or "none"
        raise ValueError(f"unknown segment {definition.segment!r} (known: {known})")
    if definition.channel.value not in segment.channels:
        raise ValueError(
            f"segment {segment.name!r} can be sent on {', '.join(segment.channels)}, "
            f"not {definition.channel.value}"
        )
    stored = session.get(StoredActivation, definition.name)
    document = definition.model_dump(mode="json") | {"declared_in": "api"}
    before = stored.definition if stored is not None else None
    now = utc_now()
    if stored is None:
        session.add(
            StoredActivation(
                name=definition.name,
                definition=document,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        stored.definition, stored.updated_at = document, now
    record_audit(
        session,
        actor=actor,
        action="activation.create" if stored is None else "activation.update",
        resource_type="activation",
        resource_id=definition.name,
        before=before,
        after=document,
    )
    return ActivationDefinition.model_validate(document)
