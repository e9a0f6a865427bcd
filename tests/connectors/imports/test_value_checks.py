"""The per-value checks: their fast paths agree with the libraries they stand in for."""

import polars as pl
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.imports.column_checks import plain_email_shapes
from connectors.imports.value_checks import (
    ValueProblem,
    check_email,
    check_phone,
    plain_email_shape,
)

_LOCAL = st.text(alphabet="abcXYZ019._+-'!#", min_size=1, max_size=70)
_LABEL = st.text(alphabet="abxnz09-", min_size=1, max_size=64)
_TLD = st.sampled_from(["com", "org", "c", "io", "test", "local", "x1", "museum", "onion"])


@settings(max_examples=1000, deadline=None)
@given(local=_LOCAL, labels=st.lists(_LABEL, min_size=1, max_size=3), tld=_TLD)
def test_every_address_the_fast_path_admits_email_validator_admits(local, labels, tld):
    address = f"{local}@{'.'.join(labels)}.{tld}"
    if plain_email_shape(address):
        validate_email(address, check_deliverability=False)  # raises if the fast path lied


@pytest.mark.parametrize(
    "address", ["a..b@example.com", ".a@example.com", "a@-x.com", "a@x.test", "a@localhost"]
)
def test_addresses_email_validator_refuses_are_refused(address):
    with pytest.raises(EmailNotValidError):
        validate_email(address, check_deliverability=False)
    with pytest.raises(ValueProblem):
        check_email(address)


def test_internationalised_addresses_take_the_slow_path_and_pass():
    assert not plain_email_shape("jörg@exämple.de")
    assert check_email("Jörg@exämple.de") == "jörg@exämple.de"


def test_a_national_number_without_a_country_asks_for_the_international_form():
    with pytest.raises(ValueProblem, match=r"use \+<code>"):
        check_phone("06 12 34 56 78", None)
    assert check_phone("06 12 34 56 78", "fr") == "+33612345678"


@settings(max_examples=200, deadline=None)
@given(
    addresses=st.lists(
        st.builds(
            lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
            _LOCAL,
            st.lists(_LABEL, min_size=1, max_size=3),
            _TLD,
        )
        | st.text(max_size=30),
        max_size=30,
    )
)
def test_the_column_wise_email_shape_is_the_per_value_one(addresses):
    shapes = plain_email_shapes(pl.Series(addresses, dtype=pl.String)).to_list()
    assert shapes == [plain_email_shape(address) for address in addresses]
