"""How dbt nodes become Dagster assets: keys by schema, groups by folder, owners from meta.

Each decision is a small function of a node's manifest properties, unit-tested on its own;
the translator only delegates to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

SEGMENT_TAG = "tidemark/segment"


def asset_key_for(props: Mapping[str, Any]) -> dg.AssetKey:
    """`raw/<table>` for sources (the loader's assets), `<schema>/<model>` for models.

    A source is keyed by its schema, not its dbt source name, so every source in `raw`
    (`raw`, `shopify`) meets the loader's `raw/<table>` asset.
    """
    if props["resource_type"] == "source":
        return dg.AssetKey([props["schema"], props["name"]])
    schema = props.get("config", {}).get("schema") or props["schema"]
    return dg.AssetKey([schema, props.get("alias") or props["name"]])


def group_for(props: Mapping[str, Any]) -> str:
    """The model's folder under `models/` (staging, intermediate, marts, segments)."""
    if props["resource_type"] == "source":
        return str(props["source_name"])
    fqn = props.get("fqn", [])
    return fqn[1] if len(fqn) > 2 else "models"


def segment_meta(props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    meta = props.get("config", {}).get("meta") or props.get("meta") or {}
    found = meta.get("tidemark", {}).get("segment")
    return found if isinstance(found, Mapping) else None


def owners_for(props: Mapping[str, Any]) -> list[str]:
    """A segment's declared owner, as Dagster wants it: an email or `team:<name>`."""
    meta = segment_meta(props)
    owner = (meta or {}).get("owner")
    if not owner:
        return []
    owner = str(owner)
    return [owner if "@" in owner or owner.startswith("team:") else f"team:{owner}"]


def tags_for(props: Mapping[str, Any]) -> dict[str, str]:
    return {SEGMENT_TAG: ""} if segment_meta(props) is not None else {}


class TidemarkDbtTranslator(DagsterDbtTranslator):
    """Delegates each naming decision to the helpers above."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        return asset_key_for(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return group_for(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        return owners_for(dbt_resource_props)

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        return {**super().get_tags(dbt_resource_props), **tags_for(dbt_resource_props)}
