"""Phone numbers already in E.164 (`+14155552671`), validated a whole column at a time.

`phonenumbers` is pure Python: parsing and validating one number costs tens of microseconds,
which on a million-row file is most of the import. Numbers exported from other systems are
nearly always in E.164 already, and for those validation is only regular expressions: the
same metadata patterns `phonenumbers.is_valid_number` applies (region chosen by leading
digits or by the first region whose patterns match, then the general description and one of
the number types), run by polars' regex engine over the column.

The fast path only ever *accepts*: a number it does not accept goes through `phonenumbers`
as before (with its reason when refused), and so does any number `phonenumbers` might read
differently, e.g. one starting with its region's national prefix, which parsing strips. A
property test holds it to `phonenumbers` on every region's example numbers and variants.
"""

from __future__ import annotations

from functools import cache

import polars as pl
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata
from phonenumbers.phonemetadata import PhoneNumberDesc

_E164 = r"^\+[1-9][0-9]{6,14}$"
_NON_GEO = "001"


def _metadata(country_code: int, region: str) -> PhoneMetadata | None:
    if region == _NON_GEO:
        return PhoneMetadata.metadata_for_nongeo_region(country_code, None)
    return PhoneMetadata.metadata_for_region(region, None)


def _matches(number: pl.Expr, desc: PhoneNumberDesc | None) -> pl.Expr:
    """phonenumbers' `_is_number_matching_desc`: a possible length and a full pattern match."""
    if desc is None or not desc.national_number_pattern:
        return pl.lit(False)
    matched = number.str.contains(f"^(?:{desc.national_number_pattern})$")
    if desc.possible_length:  # (-1,) means no length is possible
        matched = matched & number.str.len_chars().is_in(list(desc.possible_length))
    return matched


def _has_known_type(number: pl.Expr, metadata: PhoneMetadata) -> pl.Expr:
    """phonenumbers' `_number_type_helper(...) != UNKNOWN`."""
    types = [
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
        metadata.fixed_line,
    ]
    if not metadata.same_mobile_and_fixed_line_pattern:
        types.append(metadata.mobile)
    any_type = pl.lit(False)
    for desc in types:
        any_type = any_type | _matches(number, desc)
    return _matches(number, metadata.general_desc) & any_type


@cache
def _regions(country_code: int) -> list[tuple[pl.Expr, pl.Expr]]:
    """Per region of the calling code, in phonenumbers' order: (chosen, valid) over `nsn`."""
    number = pl.col("nsn")
    steps = []
    for region in COUNTRY_CODE_TO_REGION_CODE[country_code]:
        metadata = _metadata(country_code, region)
        if metadata is None:
            continue
        valid = _has_known_type(number, metadata)
        chosen = (
            number.str.contains(f"^(?:{metadata.leading_digits})")
            if metadata.leading_digits is not None
            else valid
        )
        steps.append((chosen, valid))
    return steps


@cache
def _national_prefix(country_code: int) -> pl.Expr:
    """Numbers that parsing might shorten (their region's national prefix): not decided here."""
    region = COUNTRY_CODE_TO_REGION_CODE[country_code][0]
    metadata = _metadata(country_code, region)
    if metadata is None or not metadata.national_prefix_for_parsing:
        return pl.lit(False)
    return pl.col("nsn").str.contains(f"^(?:{metadata.national_prefix_for_parsing})")


def _valid_numbers(country_code: int, numbers: pl.DataFrame) -> pl.Series:
    """Row indexes of `numbers` (`index`, `nsn`) that `is_valid_number` accepts.

    `region_code_for_number`: the first region whose leading digits match, or (for one without
    leading digits) whose patterns accept the number, decides; the rest never see it. Regions
    are tried in turn on what is still undecided, so the common case (a calling code's main
    region) costs one region's patterns.
    """
    undecided = numbers.filter(~_national_prefix(country_code))
    accepted = []
    for chosen, valid in _regions(country_code):
        if undecided.is_empty():
            break
        marked = undecided.with_columns(chosen=chosen.fill_null(False))
        decided = marked.filter(pl.col("chosen"))
        accepted.append(decided.filter(valid.fill_null(False))["index"])
        undecided = marked.filter(~pl.col("chosen")).drop("chosen")
    return pl.concat(accepted) if accepted else pl.Series("index", [], dtype=pl.UInt32)


def accepted_e164(numbers: pl.Series) -> pl.Series:
    """True where `numbers` (stripped text, null when blank) is a valid E.164 number that
    `check_phone` would return unchanged; False means "not decided here"."""
    frame = pl.DataFrame({"number": numbers}).with_columns(
        shaped=pl.col("number").str.contains(_E164).fill_null(False)
    )
    known = list(COUNTRY_CODE_TO_REGION_CODE)
    country_code: pl.Expr = pl.lit(None, dtype=pl.Int32)
    for length in (3, 2, 1):  # country codes are prefix-free: at most one length is known
        code = pl.col("number").str.slice(1, length).cast(pl.Int32, strict=False)
        country_code = pl.when(code.is_in(known)).then(code).otherwise(country_code)
    frame = frame.with_columns(cc=country_code).with_columns(
        nsn=pl.col("number").str.slice(pl.col("cc").cast(pl.String).str.len_chars() + 1)
    )
    accepted = pl.Series("accepted", [False] * len(frame), dtype=pl.Boolean)
    candidates = frame.with_row_index().filter(pl.col("shaped") & pl.col("cc").is_not_null())
    for (code,), group in candidates.group_by("cc"):
        accepted = accepted.scatter(_valid_numbers(int(code), group.select("index", "nsn")), True)
    return accepted
