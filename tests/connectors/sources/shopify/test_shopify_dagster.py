"""The Dagster side: the `shopify/sync` asset lands pages; the schedule skips until configured."""

from datetime import UTC, datetime

import dagster as dg
import pyarrow.parquet as pq
import pytest

from connectors.landing import LocalLandingZone
from dagster_project.defs.shopify.assets import shopify_sync
from dagster_project.defs.shopify.schedules import shopify_sync_schedule
from dagster_project.resources import TidemarkResource
from tests.connectors.sources.shopify.conftest import SHOP, TOKEN


@pytest.fixture
def home(tmp_path, monkeypatch):
    for name in ("SHOPIFY_SHOP", "SHOPIFY_ACCESS_TOKEN", "SHOPIFY_API_URL"):
        monkeypatch.delenv(f"TIDEMARK_{name}", raising=False)
    monkeypatch.setenv("TIDEMARK_HOME", str(tmp_path))
    return tmp_path


def configure(monkeypatch, api_url: str) -> None:
    monkeypatch.setenv("TIDEMARK_SHOPIFY_SHOP", SHOP)
    monkeypatch.setenv("TIDEMARK_SHOPIFY_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("TIDEMARK_SHOPIFY_API_URL", api_url)


def tick(home):
    context = dg.build_schedule_context(
        resources={"tidemark": TidemarkResource(home=str(home))},
        scheduled_execution_time=datetime(2026, 11, 27, 12, 30, tzinfo=UTC),
    )
    return shopify_sync_schedule(context)


def test_the_asset_lands_every_stream_and_reports_counts(home, monkeypatch, shop_server):
    configure(monkeypatch, shop_server.api_url)

    result = dg.materialize(
        [shopify_sync], resources={"tidemark": TidemarkResource(home=str(home))}
    )

    assert result.success
    (materialization,) = result.asset_materializations_for_node("shopify__sync")
    metadata = {name: value.value for name, value in materialization.metadata.items()}
    assert (metadata["customers_records"], metadata["orders_records"]) == (5, 7)
    assert metadata["products_records"] == 6 and metadata["orders_pages"] == 1
    landing = LocalLandingZone(home / "landing")
    assert sorted({f.dataset for f in landing.list()}) == [
        "shopify_customers",
        "shopify_orders",
        "shopify_products",
    ]
    (orders,) = landing.list("shopify_orders")
    assert pq.read_metadata(landing.root / orders.key).num_rows == 7

    again = dg.materialize([shopify_sync], resources={"tidemark": TidemarkResource(home=str(home))})
    (second,) = again.asset_materializations_for_node("shopify__sync")
    assert second.metadata["orders_records"].value == 1  # only the boundary order again


def test_the_schedule_skips_with_a_reason_until_a_shop_is_configured(home, monkeypatch):
    skipped = tick(home)
    assert isinstance(skipped, dg.SkipReason)
    assert "TIDEMARK_SHOPIFY_SHOP and TIDEMARK_SHOPIFY_ACCESS_TOKEN" in skipped.skip_message

    configure(monkeypatch, "http://127.0.0.1:9/admin/api/2024-10")
    request = tick(home)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == f"shopify-{SHOP}-20261127T1230"


def test_the_code_location_includes_the_sync_and_its_schedule():
    from dagster_project.definitions import defs

    definitions = defs()
    assert definitions.get_assets_def(dg.AssetKey(["shopify", "sync"]))
    assert definitions.get_schedule_def("shopify_sync_schedule")
