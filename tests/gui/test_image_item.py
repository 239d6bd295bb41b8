"""Heatmap images coloured by attnviz look exactly like pyqtgraph's own colouring."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attnviz.gui.image_item import FAST, ImageItem
from attnviz.gui.palette import DIVERGING, SEQUENTIAL


def rendered(item: pg.ImageItem, values: np.ndarray, levels, lut: np.ndarray) -> np.ndarray:
    item.setLookupTable(lut)
    item.setImage(values, autoLevels=False, levels=levels)
    item.render()
    image = item.qimage.convertToFormat(FAST)
    return np.array(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine()).copy()


def values_and_levels():
    """float32 images with NaN, ±inf, values outside the levels and on the colour rows' edges."""
    @st.composite
    def build(draw):
        h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
        low = draw(st.floats(-5, 5, allow_nan=False))
        span = draw(st.sampled_from([0.0, 1e-3, 1.0, 3.0, 2.5]))
        edges = [low + span * k / 256 for k in (0, 1, 127, 128, 255, 256)]
        pool = st.one_of(st.floats(-10, 10, width=32), st.sampled_from([*edges, np.nan, np.inf, -np.inf]))
        values = np.array(draw(st.lists(pool, min_size=h * w, max_size=h * w)), dtype=np.float32).reshape(h, w)
        return values, (low, low + span)
    return build()


@pytest.mark.parametrize("colormap", [DIVERGING, SEQUENTIAL], ids=["diverging", "sequential"])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=values_and_levels())
def test_a_float_image_on_levels_is_coloured_as_pyqtgraph_colours_it(qapp, colormap, case):
    values, levels = case
    lut = colormap.getLookupTable(nPts=256, alpha=False)
    ours = ImageItem(axisOrder="row-major")
    theirs = pg.ImageItem(axisOrder="row-major")
    np.testing.assert_array_equal(rendered(ours, values, levels, lut), rendered(theirs, values, levels, lut))
    assert ours.qimage.format() == FAST and ours._argb is not None  # coloured here, not by pyqtgraph


def test_other_images_still_go_through_pyqtgraph(qapp):
    # an RGBA image (the mask of masked cells) has no levels or table: pyqtgraph colours it
    rgba = np.zeros((2, 3, 4), dtype=np.ubyte)
    rgba[0, 1] = (189, 189, 189, 255)
    ours, theirs = ImageItem(axisOrder="row-major"), pg.ImageItem(axisOrder="row-major")
    for item in (ours, theirs):
        item.setImage(rgba, autoLevels=False)
        item.render()
    assert ours.qimage.format() == FAST
    expected = theirs.qimage.convertToFormat(FAST)
    assert ours.qimage == expected
    assert ours._argb is None


def test_a_new_colour_map_on_the_same_item_recolours_it(qapp):
    values = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    ours = ImageItem(axisOrder="row-major")
    for colormap in (DIVERGING, SEQUENTIAL, DIVERGING):
        lut = colormap.getLookupTable(nPts=256, alpha=False)
        expected = rendered(pg.ImageItem(axisOrder="row-major"), values, (-1, 1), lut)
        np.testing.assert_array_equal(rendered(ours, values, (-1, 1), lut), expected)


def test_an_image_in_column_order_or_a_strided_view_is_coloured_the_same(qapp):
    values = np.arange(12, dtype=np.float32).reshape(3, 4) / 11
    lut = DIVERGING.getLookupTable(nPts=256, alpha=False)
    expected = rendered(pg.ImageItem(axisOrder="row-major"), values, (0, 1), lut)
    for layout in (np.asfortranarray(values), np.repeat(values, 2, axis=1)[:, ::2]):
        np.testing.assert_array_equal(rendered(ImageItem(axisOrder="row-major"), layout, (0, 1), lut), expected)


def test_one_item_follows_each_change_of_its_values_levels_and_table(qapp):
    """The item keeps its pixels' table rows (its cell numbers' colours read them too) until something changes."""
    from attnviz.gui.palette import table_rows

    a = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    b = a[::-1].copy() * 2
    lut = {n: DIVERGING.getLookupTable(nPts=n, alpha=False) for n in (256, 64)}
    item = ImageItem(axisOrder="row-major")
    item.setLookupTable(lut[256])
    item.setImage(a, autoLevels=False, levels=(-1, 1))
    state = {"values": a, "levels": (-1, 1), "steps": 256}
    changes = [
        ("levels", (-2, 2), lambda: item.setLevels((-2, 2))),
        ("values", b, lambda: item.setImage(b, autoLevels=False)),
        ("steps", 64, lambda: item.setLookupTable(lut[64])),
        ("levels", (0, 0.5), lambda: item.setLevels((0, 0.5))),
        # levels set with no update, then anything that has the item render again
        ("levels", (-0.5, 2), lambda: (item.setLevels((-0.5, 2), update=False), item.setAutoDownsample(False))),
    ]
    for name, value, change in changes:
        item.table_rows(state["steps"])  # asked for before the change, as a heatmap's numbers do
        item.render()
        change()
        state[name] = value
        expected_rows = table_rows(state["values"], *state["levels"], steps=state["steps"])
        np.testing.assert_array_equal(item.table_rows(state["steps"]), expected_rows)
        item.render()  # as the next paint does
        ours = item.qimage.convertToFormat(FAST)
        theirs = pg.ImageItem(axisOrder="row-major")
        expected = rendered(theirs, state["values"], state["levels"], lut[state["steps"]])
        got = np.array(ours.constBits(), dtype=np.uint8).reshape(ours.height(), ours.bytesPerLine())
        np.testing.assert_array_equal(got, expected, err_msg=f"after a change of {name}")
    # rows for a table of another length are worked out for that length
    np.testing.assert_array_equal(item.table_rows(16), table_rows(state["values"], *state["levels"], steps=16))
    with pytest.raises(ValueError):  # shared by the painting and the numbers' colours: not to be changed
        item.table_rows(16)[0, 0] = 3
