"""The E.164 fast path accepts only what `check_phone` (phonenumbers) accepts, unchanged."""

from __future__ import annotations

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.imports.phone_fast_path import accepted_e164
from connectors.imports.value_checks import ValueProblem, check_phone


def _phonenumbers_verdict(number: str) -> str | None:
    try:
        return check_phone(number, None)
    except ValueProblem:
        return None


def _example_numbers() -> list[str]:
    """Every region's example number of every type, in E.164, and near misses of each."""
    numbers = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            numbers |= {e164, e164[:-1], e164 + "0", e164[:-2] + "99", e164[:4] + "0" + e164[4:]}
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            numbers.add(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    return sorted(numbers)


def _assert_agrees(numbers: list[str]) -> int:
    accepted = accepted_e164(pl.Series(numbers, dtype=pl.String)).to_list()
    for number, fast in zip(numbers, accepted, strict=True):
        if fast:
            assert _phonenumbers_verdict(number) == number, number
    return sum(accepted)


def test_every_number_the_fast_path_accepts_phonenumbers_accepts_unchanged():
    numbers = _example_numbers()
    accepted = _assert_agrees(numbers)
    # It must also be useful: most valid examples are decided without phonenumbers.
    valid = sum(_phonenumbers_verdict(number) == number for number in numbers)
    assert accepted > 0.9 * valid


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)).flatmap(
            lambda code: st.from_regex(rf"\A\+{code}[0-9]{{4,12}}\Z")
        ),
        min_size=1,
        max_size=40,
    )
)
def test_random_numbers_of_every_calling_code(numbers):
    _assert_agrees(numbers)


@pytest.mark.parametrize("text", ["", "+", "+0123456789", "+1 415 555 2671", "06 12 34 56 78"])
def test_text_that_is_not_plain_e164_is_left_to_phonenumbers(text):
    assert accepted_e164(pl.Series([text, None], dtype=pl.String)).to_list() == [False, False]
