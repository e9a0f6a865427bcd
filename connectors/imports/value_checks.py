"""Per-value checks of imported fields: each returns the value as the warehouse stores it, or
raises `ValueProblem` with a reason a person can act on.

They are per value because one bad cell must cost one row, never the file. The common case
is kept cheap on million-row files: an email of the plain `local@domain.tld` shape passes a
precompiled pattern (every address it admits, email-validator admits too, as a property test
checks), and only the rest goes through email-validator; phone numbers are parsed once per
distinct (number, country) pair.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from functools import cache, lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from connectors.iso_timestamps import parse_utc
from connectors.loader.expectations import EARLIEST_PLAUSIBLE, FUTURE_TOLERANCE


class ValueProblem(ValueError):
    """One field's value is unusable; the message is the reason written to quarantine."""


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
PLAIN_EMAIL_PATTERN = rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}"
_PLAIN_EMAIL = re.compile(PLAIN_EMAIL_PATTERN)
# email-validator refuses these special-use names (RFC 6761 and friends) even when well formed.
SPECIAL_USE_SUFFIXES = (".arpa", ".invalid", ".local", ".localhost", ".onion", ".test")
MAX_LOCAL_PART = 64
MAX_EMAIL = 254


def plain_email_shape(value: str) -> bool:
    """Whether `value` is an ordinary ASCII address that needs no further checking."""
    if len(value) > MAX_EMAIL or not _PLAIN_EMAIL.fullmatch(value):
        return False
    local, _, domain = value.rpartition("@")
    return (
        len(local) <= MAX_LOCAL_PART
        # `ab--` labels are reserved for IDNA (xn--): email-validator decides those.
        and "--" not in domain
        and not domain.lower().endswith(SPECIAL_USE_SUFFIXES)
    )


def check_email(value: str) -> str:
    """The address, lowercased; syntax only (no DNS: an import must not depend on the network)."""
    if plain_email_shape(value):
        return value.lower()
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueProblem(f"not a valid email address: {error}") from None
    return checked.normalized.lower()


@lru_cache(maxsize=200_000)
def check_phone(value: str, country: str | None) -> str:
    """The number in E.164; numbers without `+` are read as national numbers of `country`."""
    region = country.upper() if country else None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as error:
        hint = "" if region or value.startswith("+") else " (no country given: use +<code>)"
        raise ValueProblem(f"not a phone number: {error}{hint}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueProblem(f"not a valid phone number for its region: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(value: str) -> str:
    """An IANA time zone name, exactly as the tz database spells it."""
    if value in _time_zones():
        return value
    by_case = {name.lower(): name for name in _time_zones()}
    suggestion = by_case.get(value.lower())
    hint = f" (did you mean {suggestion!r}?)" if suggestion else " (expected e.g. Europe/Paris)"
    raise ValueProblem(f"not an IANA time zone: {value!r}{hint}")


_COUNTRY = re.compile(r"[A-Za-z]{2}")


def check_country(value: str) -> str:
    if not _COUNTRY.fullmatch(value):
        raise ValueProblem(f"not an ISO 3166-1 alpha-2 country code: {value!r} (expected e.g. FR)")
    return value.upper()


CONSENT_VALUES = ("granted", "withdrawn")


def check_consent(value: str) -> str:
    status = value.lower()
    if status not in CONSENT_VALUES:
        raise ValueProblem(
            f"consent must be one of {', '.join(CONSENT_VALUES)} (or blank), not {value!r}"
        )
    return status


def check_timestamp(value: str, now: datetime) -> datetime:
    """UTC without a zone attached; a time without an offset is taken to be UTC already."""
    try:
        moment = parse_utc(value)
    except ValueError:
        raise ValueProblem(
            f"not an ISO 8601 date-time: {value!r} (expected e.g. 2024-05-01T09:30:00Z)"
        ) from None
    if moment < EARLIEST_PLAUSIBLE or moment > now + FUTURE_TOLERANCE:
        raise ValueProblem(
            f"{value!r} is implausible: expected between {EARLIEST_PLAUSIBLE:%Y-%m-%d} and "
            f"{(now + FUTURE_TOLERANCE):%Y-%m-%d}"
        )
    return moment


def check_amount(value: str) -> float:
    try:
        amount = float(value)
    except ValueError:
        raise ValueProblem(f"not a number: {value!r} (use . as the decimal separator)") from None
    if amount != amount or amount in (float("inf"), float("-inf")):
        raise ValueProblem(f"not a finite number: {value!r}")
    return amount


def check_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise ValueProblem(f"not a whole number: {value!r}") from None
    if not 0 <= count < 2**31:
        raise ValueProblem(f"out of range: {value!r} (expected 0 to {2**31 - 1})")
    return count


def check_token(value: str) -> str:
    """A vocabulary value such as an event type: lowercase letters, digits and underscores."""
    token = value.lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", token):
        raise ValueProblem(f"expected a name like page_view (letters, digits, _), not {value!r}")
    return token
