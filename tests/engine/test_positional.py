"""Sinusoidal positional encoding against math.sin / math.cos loops."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attnviz.engine import positional_encoding


def expected_pe(n: int, d_model: int) -> list[list[float]]:
    rows = []
    for p in range(n):
        row = []
        for i in range((d_model + 1) // 2):
            angle = p / 10000 ** (2 * i / d_model)
            row.append(math.sin(angle))
            if 2 * i + 1 < d_model:
                row.append(math.cos(angle))
        rows.append(row)
    return rows


@pytest.mark.parametrize("d_model", [1, 2, 3, 4, 5, 6, 7, 8, 16, 33])
@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_values_match_the_formula(n, d_model):
    pe = positional_encoding(n, d_model)
    assert pe.shape == (n, d_model)
    assert pe.dtype == np.float64
    np.testing.assert_allclose(pe, expected_pe(n, d_model), rtol=1e-9, atol=1e-12)


def test_default_kind_is_sinusoidal():
    np.testing.assert_array_equal(positional_encoding(5, 4), positional_encoding(5, 4, "sinusoidal"))


def test_known_values():
    pe = positional_encoding(3, 4)
    # position 0: sin 0 = 0, cos 0 = 1
    assert pe[0].tolist() == [0.0, 1.0, 0.0, 1.0]
    # position 1, columns 0/1: frequency 1; columns 2/3: frequency 1/100
    np.testing.assert_allclose(pe[1], [math.sin(1), math.cos(1), math.sin(0.01), math.cos(0.01)], rtol=1e-12)
    np.testing.assert_allclose(pe[2], [math.sin(2), math.cos(2), math.sin(0.02), math.cos(0.02)], rtol=1e-12)


def test_odd_d_model_ends_with_a_sine():
    pe = positional_encoding(4, 3)
    # columns: sin(p), cos(p), sin(p / 10000^(2/3))
    for p in range(4):
        np.testing.assert_allclose(pe[p], [math.sin(p), math.cos(p), math.sin(p / 10000 ** (2 / 3))], rtol=1e-12,
                                   atol=1e-15)
    one = positional_encoding(3, 1)
    np.testing.assert_allclose(one[:, 0], [0.0, math.sin(1), math.sin(2)], rtol=1e-12)


@pytest.mark.parametrize("kind", ["sinusoidal", "none"])
@pytest.mark.parametrize("d_model", [1, 4])
def test_zero_positions(kind, d_model):
    pe = positional_encoding(0, d_model, kind)
    assert pe.shape == (0, d_model)


@pytest.mark.parametrize(("n", "d_model"), [(1, 1), (5, 3), (7, 6)])
def test_none_gives_zeros(n, d_model):
    pe = positional_encoding(n, d_model, "none")
    assert pe.shape == (n, d_model)
    assert pe.dtype == np.float64
    assert (pe == 0.0).all()


@pytest.mark.parametrize("kind", ["learned", "Sinusoidal", "", "NONE", "rope"])
def test_unknown_kind_raises(kind):
    with pytest.raises(ValueError, match="positional encoding"):
        positional_encoding(3, 4, kind)


def test_rows_are_distinct_and_bounded():
    pe = positional_encoding(64, 8)
    assert (np.abs(pe) <= 1.0).all()
    assert len({tuple(row) for row in pe.tolist()}) == 64
