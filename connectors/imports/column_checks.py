"""The per-value checks of `value_checks`, applied a chunk's column at a time.

A column check takes the column's stripped texts (null where blank) and returns the stored
values (null where blank or refused) and the refusal reasons (null where fine). Most columns
of a real file hold few distinct values (time zones, countries, consent, dates of an export),
so a check runs once per distinct value, not per row; emails and phone numbers, nearly all
distinct, first pass a vectorised test of the common shape (`plain_email_shape` as a polars
expression, `phone_fast_path`) and only the rest meet email-validator or phonenumbers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import polars as pl

from connectors.imports.phone_fast_path import accepted_e164
from connectors.imports.value_checks import (
    MAX_EMAIL,
    MAX_LOCAL_PART,
    PLAIN_EMAIL_PATTERN,
    SPECIAL_USE_SUFFIXES,
    ValueProblem,
    check_email,
    check_phone,
    check_timestamp,
)

ColumnCheck = Callable[[pl.Series, pl.DataFrame, datetime], tuple[pl.Series, pl.Series]]
"""(stripped texts, the chunk's stripped texts by column, now) → (stored values, problems)."""


def _no_problems(texts: pl.Series) -> pl.Series:
    return pl.Series("problem", [None] * len(texts), dtype=pl.String)


def as_text(texts: pl.Series, frame: pl.DataFrame, now: datetime) -> tuple[pl.Series, pl.Series]:
    """Free text: stored as given (stripped)."""
    return texts, _no_problems(texts)


def _by_distinct(
    texts: pl.Series, check: Callable[[str], Any], dtype: pl.DataType
) -> tuple[pl.Series, pl.Series]:
    stored: dict[str, Any] = {}
    refused: dict[str, str] = {}
    for value in texts.drop_nulls().unique().to_list():
        try:
            stored[value] = check(value)
        except ValueProblem as problem:
            refused[value] = str(problem)
    values = texts.replace_strict(stored, default=None, return_dtype=dtype)
    problems = texts.replace_strict(refused, default=None, return_dtype=pl.String)
    return values, problems


def per_distinct_value(check: Callable[[str], Any], dtype: pl.DataType) -> ColumnCheck:
    """A column check running `check(value)` once per distinct value."""

    def checked(
        texts: pl.Series, frame: pl.DataFrame, now: datetime
    ) -> tuple[pl.Series, pl.Series]:
        return _by_distinct(texts, check, dtype)

    return checked


def timestamp(texts: pl.Series, frame: pl.DataFrame, now: datetime) -> tuple[pl.Series, pl.Series]:
    """ISO 8601 date-times as naive UTC, plausible relative to `now`."""
    return _by_distinct(texts, lambda value: check_timestamp(value, now), pl.Datetime("us"))


def _merge(
    fast: pl.Series, fast_values: pl.Series, slow: tuple[pl.Series, pl.Series]
) -> tuple[pl.Series, pl.Series]:
    slow_values, slow_problems = slow
    values = pl.select(pl.when(fast).then(fast_values).otherwise(slow_values))[:, 0]
    problems = pl.select(pl.when(fast).then(None).otherwise(slow_problems))[:, 0]
    return values, problems.cast(pl.String)


def plain_email_shapes(texts: pl.Series) -> pl.Series:
    """`value_checks.plain_email_shape` over a column (null → False)."""
    domain = texts.str.extract(r"@([^@]*)$")
    local_length = texts.str.len_chars() - domain.str.len_chars() - 1
    special = pl.Series([False] * len(texts), dtype=pl.Boolean)
    for suffix in SPECIAL_USE_SUFFIXES:
        special = special | domain.str.to_lowercase().str.ends_with(suffix)
    shaped = (
        (texts.str.len_chars() <= MAX_EMAIL)
        & texts.str.contains(f"^(?:{PLAIN_EMAIL_PATTERN})$")
        & (local_length <= MAX_LOCAL_PART)
        & ~domain.str.contains("--", literal=True)
        & ~special
    )
    return shaped.fill_null(False)


def _only_where(keep: pl.Series, texts: pl.Series) -> pl.Series:
    return pl.select(pl.when(keep).then(texts).otherwise(None))[:, 0]


def email(texts: pl.Series, frame: pl.DataFrame, now: datetime) -> tuple[pl.Series, pl.Series]:
    """Plain addresses lowercased in one pass; email-validator for the others only."""
    fast = plain_email_shapes(texts)
    slow = _by_distinct(_only_where(~fast, texts), check_email, pl.String())
    return _merge(fast, texts.str.to_lowercase(), slow)


def phone(texts: pl.Series, frame: pl.DataFrame, now: datetime) -> tuple[pl.Series, pl.Series]:
    """E.164 numbers decided in one pass; phonenumbers once per distinct (number, country)
    for the others, a national number being read as one of the row's `country`."""
    fast = accepted_e164(texts)
    countries = frame.get_column("country") if "country" in frame.columns else None
    pairs = pl.DataFrame(
        {
            "value": _only_where(~fast, texts),
            "country": countries if countries is not None else [None] * len(texts),
        },
        schema={"value": pl.String, "country": pl.String},
    ).with_row_index()
    results: dict[str, list[Any]] = {"value": [], "country": [], "stored": [], "problem": []}
    for value, country in (
        pairs.drop_nulls("value")
        .unique(["value", "country"])
        .select("value", "country")
        .iter_rows()
    ):
        try:
            stored, problem = check_phone(value, country), None
        except ValueProblem as refusal:
            stored, problem = None, str(refusal)
        for name, item in zip(results, (value, country, stored, problem), strict=True):
            results[name].append(item)
    checked = pairs.join(
        pl.DataFrame(results, schema=dict.fromkeys(results, pl.String)),
        on=["value", "country"],
        how="left",
        nulls_equal=True,
    ).sort("index")
    return _merge(fast, texts, (checked["stored"], checked["problem"]))
