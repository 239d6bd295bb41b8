"""Embedding look-up and the deterministic vectors of unknown words."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attnviz.engine.embedding import lookup, unknown_word_vector

ROOT = Path(__file__).resolve().parents[2]
WORDS = ["zebra", "Zebra", "ZEBRA", "quux", "日本語", "привет", "don’t", "x", "naïve"]


def spec_vector(word: str, d_model: int) -> list[float]:
    """The documented recipe, written out: BLAKE2b-8 of the lower-cased UTF-8 word (little-endian)
    seeds PCG64, which draws d_model standard normals, rounded to 2 decimals."""
    seed = int.from_bytes(hashlib.blake2b(word.lower().encode("utf-8"), digest_size=8).digest(), "little")
    draws = np.random.Generator(np.random.PCG64(seed)).standard_normal(d_model)
    return [round(float(z), 2) for z in draws]


@pytest.mark.parametrize("word", WORDS)
def test_unknown_vector_follows_the_documented_recipe(word):
    v = unknown_word_vector(word, 7)
    assert v.shape == (7,) and v.dtype == np.float64
    np.testing.assert_allclose(v, spec_vector(word, 7), rtol=0, atol=1e-12)


def test_unknown_vector_golden_value():
    # Pinned so a change of hash, generator or rounding (which would change every saved sentence) is noticed.
    assert unknown_word_vector("zebra", 5).tolist() == [-0.49, 1.21, -0.38, -1.27, 0.67]


def test_unknown_vectors_are_deterministic_within_a_process():
    for w in WORDS:
        a, b = unknown_word_vector(w, 6), unknown_word_vector(w, 6)
        np.testing.assert_array_equal(a, b)
        assert a is not b


@pytest.mark.parametrize("hash_seed", ["0", "12345"])
def test_unknown_vectors_are_deterministic_across_processes(hash_seed):
    code = (
        "import json, sys\n"
        "from attnviz.engine.embedding import unknown_word_vector\n"
        "words = json.loads(sys.argv[1])\n"
        "print(json.dumps([unknown_word_vector(w, 6).tolist() for w in words]))\n"
    )
    pythonpath = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=pythonpath)
    out = subprocess.run([sys.executable, "-c", code, json.dumps(WORDS)], capture_output=True, text=True,
                         check=True, env=env, cwd=ROOT, timeout=120)
    theirs = json.loads(out.stdout)
    ours = [unknown_word_vector(w, 6).tolist() for w in WORDS]
    assert theirs == ours


def test_unknown_vectors_are_case_insensitive():
    for a, b in [("zebra", "ZEBRA"), ("Zebra", "zEbRa"), ("привет", "ПРИВЕТ"), ("Don’t", "don’t")]:
        np.testing.assert_array_equal(unknown_word_vector(a, 8), unknown_word_vector(b, 8))


def test_unknown_vectors_differ_between_words():
    words = ["zebra", "zebras", "quux", "a", "b", "日本語", "don't", "don’t", "naïve", "naive"]
    vectors = {w: tuple(unknown_word_vector(w, 8).tolist()) for w in words}
    assert len(set(vectors.values())) == len(words)


@pytest.mark.parametrize("word", WORDS)
def test_unknown_vectors_are_prefix_stable_across_d_model(word):
    longest = unknown_word_vector(word, 16)
    for d in range(1, 16):
        np.testing.assert_array_equal(unknown_word_vector(word, d), longest[:d])


def test_unknown_vectors_are_rounded_to_two_decimals():
    v = unknown_word_vector("rounding", 64)
    np.testing.assert_array_equal(v, np.round(v * 100) / 100)
    assert np.isfinite(v).all() and np.abs(v).max() < 10
    assert len(set(v.tolist())) > 32  # not a constant or degenerate draw


def test_lookup_known_words_come_from_the_table_and_ids_mark_unknowns():
    vocab = ("the", "cat", "sat")
    table = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    tokens = ["The", "zebra", "CAT", "sat", "the", "Zebra"]
    emb, ids = lookup(tokens, vocab, table)
    assert ids == (0, -1, 1, 2, 0, -1)
    assert isinstance(ids, tuple) and all(type(i) is int for i in ids)
    assert emb.shape == (6, 3) and emb.dtype == np.float64
    assert emb[0].tolist() == [1.0, 2.0, 3.0]
    assert emb[2].tolist() == [4.0, 5.0, 6.0]
    assert emb[3].tolist() == [7.0, 8.0, 9.0]
    assert emb[4].tolist() == [1.0, 2.0, 3.0]
    assert emb[1].tolist() == spec_vector("zebra", 3)
    assert emb[5].tolist() == emb[1].tolist()
    # the result is a copy: writing to it leaves the table alone
    emb[0, 0] = 99.0
    assert table[0, 0] == 1.0


def test_lookup_of_nothing():
    emb, ids = lookup([], ("a",), np.ones((1, 4)))
    assert emb.shape == (0, 4) and ids == ()


def test_a_vocab_word_is_not_replaced_by_its_unknown_vector():
    table = np.array([[0.5, -0.5]])
    emb, ids = lookup(["zebra"], ("zebra",), table)
    assert ids == (0,)
    assert emb.tolist() == [[0.5, -0.5]]
