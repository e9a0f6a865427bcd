"""Segments, as the engine discovers them: dbt models that carry `meta.tidemark.segment`.

A data team adds a segment by adding one model (`models/segments/segment_<name>.sql` and its
yml); this module finds it in the dbt manifest, so nothing else has to change for it to
appear in summaries, dashboards and activations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SEGMENT_PREFIX = "segment_"


class SegmentDefinitionError(ValueError):
    """A model marked as a segment whose definition cannot be used."""


@dataclass(frozen=True)
class Segment:
    """A segment model and what its owner declared about it."""

    name: str
    model: str
    relation: str
    label: str
    description: str
    owner: str | None
    channels: tuple[str, ...]
    columns: tuple[str, ...]


def _segment_meta(node: dict[str, Any]) -> dict[str, Any] | None:
    for meta in (node.get("config", {}).get("meta", {}), node.get("meta", {})):
        found = (meta or {}).get("tidemark", {}).get("segment")
        if found is not None:
            if not isinstance(found, dict):
                raise SegmentDefinitionError(
                    f"{node['name']}: meta.tidemark.segment must be a mapping, got {found!r}"
                )
            return found
    return None


def _relation(node: dict[str, Any]) -> str:
    name = node.get("alias") or node["name"]
    return f"{node['schema']}.{name}"


def discover_segments(manifest: dict[str, Any]) -> list[Segment]:
    """Every segment model in a dbt manifest, sorted by name."""
    segments = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        meta = _segment_meta(node)
        if meta is None:
            continue
        model = node["name"]
        if not model.startswith(SEGMENT_PREFIX):
            raise SegmentDefinitionError(
                f"{model}: segment models must be named {SEGMENT_PREFIX}<name>"
            )
        channels = tuple(meta.get("channels") or ())
        if not channels:
            raise SegmentDefinitionError(f"{model}: meta.tidemark.segment.channels is empty")
        segments.append(
            Segment(
                name=model.removeprefix(SEGMENT_PREFIX),
                model=model,
                relation=_relation(node),
                label=str(meta.get("label") or model),
                description=str(meta.get("description") or node.get("description") or ""),
                owner=meta.get("owner"),
                channels=channels,
                columns=tuple(node.get("columns", {})),
            )
        )
    return sorted(segments, key=lambda s: s.name)
