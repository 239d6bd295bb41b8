"""The sign of a number as Python writes it, turned into the app's: a real minus, and no "−0"."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attnviz.gui.numbers import MINUS, format_number, parse_shown, signed


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("-0.5", "−0.5"),
        ("0.5", "0.5"),
        ("-150000", "−150000"),
        ("-1e-05", "−1e-05"),  # the exponent's sign is not the number's
        ("1e-05", "1e-05"),
        ("-1.5e+300", "−1.5e+300"),
        ("-0.00", "0.00"),  # a negative number rounded to zero
        ("-0", "0"),
        ("0", "0"),
        ("", ""),
    ],
)
def test_signed(written, shown):
    assert signed(written) == shown


@given(x=st.floats(allow_nan=False, allow_infinity=False), digits=st.integers(0, 6))
def test_signed_is_the_sign_format_number_prints(x, digits):
    text = f"{x:.{digits}f}" if abs(x) < 1e6 else f"{x:.{max(digits - 1, 1)}e}"
    assert signed(text) == format_number(x, digits)
    assert parse_shown(signed(f"{x:g}")) == float(f"{x:g}")
    assert not signed(f"{x:g}").startswith("-") and signed(f"{x:g}").count(MINUS) <= 1
