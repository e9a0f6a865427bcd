"""The Great Expectations suite every landing batch must pass before it is loaded.

Schema is already enforced by `conform`; these are the data checks: ids present, the
timestamps sane (not before 2000, not more than a day in the future — a unit or time-zone
bug upstream shows up here), and closed vocabularies respected. Column-wise checks use
min/max expectations rather than per-row ones where the meaning is the same: GE's per-row
range check costs ten times more on a million-row batch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from connectors.raw_schemas import RawDataset

if TYPE_CHECKING:
    import great_expectations as gx

EARLIEST_PLAUSIBLE = datetime(2000, 1, 1)
FUTURE_TOLERANCE = timedelta(days=1)

#: Columns whose values come from a closed vocabulary, per dataset.
VOCABULARIES: dict[str, dict[str, list[str]]] = {
    "consent_events": {"channel": ["email", "sms"], "status": ["granted", "withdrawn"]},
    "message_events": {
        "channel": ["email", "sms", "webhook"],
        "event_type": [
            "sent",
            "delivered",
            "deferred",
            "bounce",
            "complaint",
            "open",
            "click",
            "unsubscribe",
            "resubscribe",
            "dropped",
            "failed",
        ],
    },
}


@dataclass(frozen=True)
class BatchValidation:
    """The outcome of a batch's suite: whether it passed and, if not, what failed."""

    success: bool
    failures: list[str] = field(default_factory=list)
    evaluated: int = 0


@cache
def _context() -> Any:
    """One ephemeral GE context per process: creating one costs far more than a validation."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # GE's progress bars would flood run logs and the CLI's own progress display.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _suite(ds: RawDataset, now: datetime, all_null: frozenset[str]) -> gx.ExpectationSuite:
    import great_expectations as gx
    from great_expectations.expectations.core.expect_column_max_to_be_between import (
        ExpectColumnMaxToBeBetween,
    )
    from great_expectations.expectations.core.expect_column_min_to_be_between import (
        ExpectColumnMinToBeBetween,
    )
    from great_expectations.expectations.core.expect_column_values_to_be_in_set import (
        ExpectColumnValuesToBeInSet,
    )
    from great_expectations.expectations.core.expect_column_values_to_not_be_null import (
        ExpectColumnValuesToNotBeNull,
    )

    _context()  # GE objects need an active context before they are built
    suite = gx.ExpectationSuite(name=f"landing_{ds.name}")
    for column in ds.required:
        if column.endswith("_id"):
            suite.add_expectation(ExpectColumnValuesToNotBeNull(column=column))
    for f in ds.schema:
        # A nullable time column may be empty in a whole batch (no order cancelled): GE's
        # min/max of nothing is NaT, which no range contains, so there is nothing to check.
        if pa.types.is_timestamp(f.type) and f.name not in all_null:
            latest = now + FUTURE_TOLERANCE
            suite.add_expectation(
                ExpectColumnMinToBeBetween(
                    column=f.name, min_value=EARLIEST_PLAUSIBLE, strict_min=False
                )
            )
            suite.add_expectation(ExpectColumnMaxToBeBetween(column=f.name, max_value=latest))
    for column, allowed in VOCABULARIES.get(ds.name, {}).items():
        suite.add_expectation(ExpectColumnValuesToBeInSet(column=column, value_set=allowed))
    return suite


def _describe_failure(result: Any) -> str:
    config = result.expectation_config
    column = config.kwargs.get("column", "")
    details = result.result or {}
    if "unexpected_count" in details:
        sample = details.get("partial_unexpected_list", [])[:5]
        return (
            f"{config.type} on {column!r}: {details['unexpected_count']} unexpected values "
            f"(e.g. {sample})"
        )
    return f"{config.type} on {column!r}: observed {details.get('observed_value')!r}"


_validation_lock = threading.Lock()


def validate_batch(ds: RawDataset, table: pa.Table, now: datetime) -> BatchValidation:
    """Run the dataset's suite on a conformed batch.

    GE's context is not safe to share between threads, so validations in one process take
    turns; loaders in separate processes do not wait for each other.
    """
    if table.num_rows == 0:
        return BatchValidation(success=True)
    with _validation_lock:
        return _validate(ds, table, now)


def _validate(ds: RawDataset, table: pa.Table, now: datetime) -> BatchValidation:
    from great_expectations.validator.v1_validator import Validator

    all_null = frozenset(
        name for name in table.column_names if table.column(name).null_count == table.num_rows
    )
    suite = _suite(ds, now, all_null)
    columns = sorted({e.column for e in suite.expectations if hasattr(e, "column")})
    frame = table.select(columns).to_pandas()
    context = _context()
    source_name = "tidemark_landing"
    try:
        source = context.data_sources.get(source_name)
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas(source_name)
    try:
        asset = source.get_asset(ds.name)
    except LookupError:
        asset = source.add_dataframe_asset(ds.name)
    try:
        definition = asset.get_batch_definition("whole")
    except (KeyError, ValueError):
        definition = asset.add_batch_definition_whole_dataframe("whole")
    # What `definition.get_batch(...).validate(suite)` does, minus its first step: GE builds
    # (and fingerprints, hashing every value) the batch in get_batch and again inside
    # validate; a third of a million-row batch's load time went to the first, unused copy.
    validator = Validator(
        batch_definition=definition,
        batch_parameters={"dataframe": frame},
        result_format="SUMMARY",
    )
    result = validator.validate_expectation_suite(suite)
    failures = [_describe_failure(r) for r in result.results if not r.success]
    return BatchValidation(
        success=bool(result.success), failures=failures, evaluated=len(result.results)
    )
