"""The activation preview renders the same message on DuckDB, ClickHouse and Snowflake.

The preview hands the renderer the member's row as the run does (`activation.segment_rows`),
not through an engine's own row-to-JSON function, so on every engine it shows what the run
would send: the same escaped text, decimals with their scale, timestamps to the microsecond.
The engines are the real ones of `tests/engines` (chDB, a fakesnow server).
"""

from __future__ import annotations

import pytest
from markupsafe import escape

from activation.definition import ActivationDefinition
from api.reads.preview import preview_message
from api.state import AppState
from connectors.settings import Settings
from connectors.warehouse.factory import open_warehouse
from tests.engines.conftest import (  # noqa: F401 - fixtures used by name
    any_settings,
    fakesnow_server,
    snowflake_database,
)
from tests.engines.test_activation_on_engines import (
    TRICKY_NAME,
    TRICKY_NOTE,
    load_audience,
)

SEGMENT = "new_subscribers_7d"  # a segment of the dbt project; its table is made by hand here


def definition() -> ActivationDefinition:
    return ActivationDefinition.model_validate(
        {
            "name": "preview_everywhere",
            "segment": SEGMENT,
            "destination": "sink",
            "channel": "email",
            "message": {
                "subject": "{{ first_name }} / {{ orders }} / {{ lifetime_value }}",
                "from_address": "shop@example.com",
                "html": "<p>{{ note }}|{{ is_vip }}|{{ score }}|{{ signed_up_at }}</p>"
                '<a href="{{ unsubscribe_url }}">stop</a>',
            },
        }
    )


@pytest.fixture
def state(any_settings: Settings) -> AppState:  # noqa: F811 - the engines' fixture
    settings = Settings(
        **{
            **any_settings.model_dump(),
            "destinations": {"sink": {"kind": "smtp", "config": {"host": "127.0.0.1"}}},
        }
    )
    warehouse = open_warehouse(settings)
    load_audience(warehouse)
    warehouse.execute(
        f"create table analytics.segment_{SEGMENT} as select * from analytics.segment_test"
    )
    return AppState.from_settings(settings)


def test_the_preview_renders_the_same_row_on_every_engine(state: AppState) -> None:
    preview = preview_message(state, definition(), "r000")

    assert (preview.profile_id, preview.to) == ("r000", "r000@example.com")
    assert preview.excluded_reason is None
    assert preview.subject == f"{TRICKY_NAME} / 3 / 12.5"  # the renderer reads JSON numbers
    assert preview.html is not None
    assert f"<p>{escape(TRICKY_NOTE)}|True|1.5|2025-12-01 10:30:00.250000</p>" in preview.html
