"""Each naming decision of the dbt translator, on manifest-shaped properties."""

import dagster as dg

from dagster_project.defs.dbt.translator import asset_key_for, group_for, owners_for, tags_for


def model(name, folder, schema, meta=None):
    return {
        "resource_type": "model",
        "name": name,
        "schema": schema,
        "fqn": ["tidemark", folder, name],
        "config": {"schema": schema, "meta": meta or {}},
    }


def test_sources_map_to_the_loaders_raw_assets():
    source = {"resource_type": "source", "source_name": "raw", "name": "events", "schema": "raw"}
    assert asset_key_for(source) == dg.AssetKey(["raw", "events"])
    shopify = {**source, "source_name": "shopify", "name": "shopify_orders"}
    assert asset_key_for(shopify) == dg.AssetKey(["raw", "shopify_orders"])
    assert group_for(source) == "raw"


def test_models_are_keyed_by_schema_and_grouped_by_folder():
    props = model("stg_raw__events", "staging", "staging")
    assert asset_key_for(props) == dg.AssetKey(["staging", "stg_raw__events"])
    assert group_for(props) == "staging"
    assert asset_key_for({**props, "alias": "events_v2"}) == dg.AssetKey(["staging", "events_v2"])


def test_segments_carry_their_owner_and_a_tag():
    props = model(
        "segment_vip", "segments", "analytics", {"tidemark": {"segment": {"owner": "growth"}}}
    )
    assert owners_for(props) == ["team:growth"]
    assert tags_for(props) == {"tidemark/segment": ""}
    with_email = model(
        "segment_vip", "segments", "analytics", {"tidemark": {"segment": {"owner": "a@b.io"}}}
    )
    assert owners_for(with_email) == ["a@b.io"]


def test_plain_models_have_no_owner_or_segment_tag():
    props = model("profiles", "marts", "analytics")
    assert owners_for(props) == []
    assert tags_for(props) == {}
