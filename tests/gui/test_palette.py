"""Colour scales: the heatmaps' round colour-bar ends."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from attnviz.gui.palette import DIVERGING, cell_color, nice_levels

finite = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)


@given(arrays(np.float64, st.integers(1, 30), elements=finite))
def test_nice_levels_cover_every_value_with_a_round_end(a):
    lo, hi = nice_levels(a)
    m = float(np.abs(a).max())
    assert lo == -hi
    if m == 0:
        assert hi == 1.0
        return
    assert m <= hi * (1 + 1e-12) and hi <= m * 4 / 3 * (1 + 1e-9)
    power = 10.0 ** math.floor(math.log10(hi) + 1e-12)
    if power == 0.0:  # a subnormal end: its power of ten underflows, and the end is the value itself
        assert hi == m
        return
    mantissa = hi / power
    assert any(math.isclose(mantissa, n, rel_tol=1e-9) for n in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10))


def test_nice_levels_below_the_smallest_power_of_ten_are_the_value_itself():
    # found by the property above: 10.0 ** -324 is 0.0 in floating point
    for value in (5e-324, 1e-323):
        assert nice_levels(np.array([value, -value / 2])) == (-value, value)


def test_nice_levels_hold_still_for_small_edits_and_ignore_non_finite_values():
    assert nice_levels(np.array([7.3, -2.0])) == nice_levels(np.array([7.9, 1.0])) == (-8.0, 8.0)
    assert nice_levels(np.array([8.01])) == (-10.0, 10.0)
    assert nice_levels(np.array([np.inf, np.nan, -0.7])) == (-0.8, 0.8)
    assert nice_levels(np.array([np.nan])) == (-1.0, 1.0)


@pytest.mark.parametrize("top", [5e-324, 1e-320, 1.0, 1e300, 1.7976931348623157e308])
def test_cell_colours_span_the_map_for_levels_at_either_end_of_the_floats(top):
    # ±1e308: their span is inf, and (v − lo) / inf was NaN; ±5e-324: half of each is 0, and 0 / 0 raised
    lo, hi = -top, top
    assert cell_color(hi, lo, hi) == cell_color(2.0, -2.0, 2.0) == DIVERGING.map(1.0, mode="qcolor")
    assert cell_color(lo, lo, hi) == cell_color(-2.0, -2.0, 2.0) == DIVERGING.map(0.0, mode="qcolor")
    if top > 1e-300:  # (half the smallest subnormal is 0)
        assert cell_color(top / 2, lo, hi) == cell_color(1.0, -2.0, 2.0)
    assert cell_color(0.0, lo, hi) == cell_color(0.0, -2.0, 2.0)
