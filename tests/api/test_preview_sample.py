"""The activation preview's sample member is one the run would actually message.

The segment's first members (by id) cannot be reached — no consent, suppressed, an invalid
address — so a preview of "the first member" would show a message nobody gets. The
preview picks the first reachable member instead, says why a member asked for by id would
be excluded, and falls back to the first member (with its reason) when nobody is reachable.
"""

import pytest

from activation.definition import ActivationDefinition
from api.reads.preview import preview_message
from api.state import AppState
from connectors.settings import Settings
from connectors.warehouse.duckdb import DuckDBWarehouse
from tests.activation.audience import add_profile, create_audience_tables

SEGMENT = "new_subscribers_7d"  # a segment of the dbt project; its table is made by hand here


def definition(segment=SEGMENT):
    return ActivationDefinition.model_validate(
        {
            "name": "welcome_preview",
            "segment": segment,
            "destination": "sink",
            "channel": "email",
            "message": {
                "subject": "Welcome, {{ first_name }}",
                "from_address": "shop@example.com",
                "html": '<p>Hi {{ first_name }} <a href="{{ unsubscribe_url }}">stop</a></p>',
            },
        }
    )


@pytest.fixture
def state(tmp_path):
    settings = Settings(
        home=tmp_path,
        destinations={"sink": {"kind": "smtp", "config": {"host": "127.0.0.1", "port": 25}}},
    )
    warehouse = DuckDBWarehouse(settings.duckdb_file)
    create_audience_tables(warehouse, SEGMENT)
    into = (SEGMENT,)
    add_profile(warehouse, "a-no-consent", segments=into, consent="revoked", first_name="Al")
    add_profile(warehouse, "b-suppressed", segments=into, suppressed=True, first_name="Bo")
    add_profile(warehouse, "c-bad", "not-an-email", segments=into, valid=False, first_name="Cy")
    add_profile(warehouse, "d-reachable", segments=into, first_name="Di")
    return AppState.from_settings(settings), warehouse


def test_the_sample_is_the_first_reachable_member(state):
    app_state, _ = state

    preview = preview_message(app_state, definition())

    assert (preview.profile_id, preview.to) == ("d-reachable", "d-reachable@example.com")
    assert preview.subject == "Welcome, Di" and preview.excluded_reason is None


def test_a_member_asked_for_by_id_is_shown_with_why_the_run_would_skip_them(state):
    app_state, _ = state

    preview = preview_message(app_state, definition(), "b-suppressed")

    assert preview.profile_id == "b-suppressed" and preview.excluded_reason == "suppressed"


def test_with_nobody_reachable_the_first_member_is_shown_with_its_reason(state):
    app_state, warehouse = state
    warehouse.execute(f"delete from analytics.segment_{SEGMENT} where profile_id = 'd-reachable'")

    preview = preview_message(app_state, definition())

    assert (preview.profile_id, preview.excluded_reason) == ("a-no-consent", "no_consent")
