"""Document and Config validation, immutability and bit-exact equality."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from attnviz.engine import AttnvizError, Config, Document

D_MODEL, D_K, D_V, H = 3, 2, 2, 2


def parts(**overrides):
    """Keyword arguments of a valid Document (2 heads, d_model 3, d_k = d_v = 2, W_o back to d_model)."""
    rng = np.random.default_rng(7)
    kw = dict(
        vocab=("the", "cat", "sat"),
        embeddings=rng.normal(size=(3, D_MODEL)),
        W_q=rng.normal(size=(H, D_MODEL, D_K)),
        W_k=rng.normal(size=(H, D_MODEL, D_K)),
        W_v=rng.normal(size=(H, D_MODEL, D_V)),
        W_o=rng.normal(size=(H * D_V, D_MODEL)),
        config=Config(),
        sentence="the cat sat",
    )
    kw.update(overrides)
    return kw


def test_a_valid_document():
    doc = Document(**parts())
    assert (doc.d_model, doc.n_heads, doc.d_k, doc.d_v) == (D_MODEL, H, D_K, D_V)
    assert doc.vocab == ("the", "cat", "sat")
    for name in ("embeddings", "W_q", "W_k", "W_v", "W_o"):
        assert getattr(doc, name).dtype == np.float64


def test_lists_and_ints_become_float_arrays_and_vocab_a_tuple():
    doc = Document(vocab=["a"], embeddings=[[1, 2]], W_q=[[[1], [0]]], W_k=[[[0], [1]]], W_v=[[[1], [1]]])
    assert doc.vocab == ("a",)
    assert doc.embeddings.dtype == np.float64 and doc.embeddings.tolist() == [[1.0, 2.0]]
    assert doc.W_o is None
    assert doc.config == Config()


# ---------------------------------------------------------------------------
# Every inconsistency raises AttnvizError naming what is wrong

rng = np.random.default_rng(3)

BAD = [
    # (overrides, a word the message must contain)
    (dict(embeddings=rng.normal(size=(2, D_MODEL))), "embeddings"),          # rows != vocab size
    (dict(embeddings=rng.normal(size=(3, D_MODEL, 1))), "embeddings"),       # 3-D
    (dict(embeddings=rng.normal(size=(3,))), "embeddings"),                  # 1-D
    (dict(embeddings=np.zeros((3, 0))), "embeddings"),                       # d_model 0
    (dict(W_q=rng.normal(size=(H, D_MODEL + 1, D_K))), "W_q"),                # rows != d_model
    (dict(W_q=rng.normal(size=(D_MODEL, D_K))), "W_q"),                      # 2-D
    (dict(W_q=np.zeros((0, D_MODEL, D_K)), W_k=np.zeros((0, D_MODEL, D_K)),
          W_v=np.zeros((0, D_MODEL, D_V))), "W_q"),                            # no heads
    (dict(W_q=np.zeros((H, D_MODEL, 0)), W_k=np.zeros((H, D_MODEL, 0))), "W_q"),  # d_k 0
    (dict(W_k=rng.normal(size=(H, D_MODEL, D_K + 1))), "W_k"),                # d_k mismatch
    (dict(W_k=rng.normal(size=(H + 1, D_MODEL, D_K))), "W_k"),                # head count mismatch
    (dict(W_k=rng.normal(size=(H, D_MODEL + 1, D_K))), "W_k"),
    (dict(W_v=rng.normal(size=(H + 1, D_MODEL, D_V))), "W_v"),
    (dict(W_v=rng.normal(size=(H, D_MODEL - 1, D_V))), "W_v"),
    (dict(W_v=rng.normal(size=(H, D_MODEL, 0))), "W_v"),
    (dict(W_o=rng.normal(size=(H * D_V + 1, D_MODEL))), "W_o"),              # rows != H·d_v
    (dict(W_o=rng.normal(size=(H * D_V,))), "W_o"),                          # 1-D
    (dict(W_o=np.zeros((H * D_V, 0))), "W_o"),                               # no columns
    (dict(vocab=("the", "cat", "the")), "vocab"),                            # duplicate
    (dict(vocab=("the", "Cat", "sat")), "vocab"),                            # upper case
    (dict(vocab=("the", "ПРИВЕТ", "sat")), "vocab"),
    (dict(vocab=("the", "", "sat")), "vocab"),                               # empty word
    (dict(vocab=(), embeddings=np.zeros((0, D_MODEL))), "vocab is empty"),   # no words at all
    (dict(vocab=("the", " cat", "sat")), "vocab"),                           # surrounding space
    (dict(vocab=("the", 7, "sat")), "vocab"),                                # not a string
    (dict(sentence=None), "sentence"),
    (dict(sentence=b"the cat"), "sentence"),
]


@pytest.mark.parametrize(("overrides", "key"), BAD, ids=[f"{k}-{i}" for i, (_, k) in enumerate(BAD)])
def test_inconsistent_documents_raise(overrides, key):
    with pytest.raises(AttnvizError, match=key):
        Document(**parts(**overrides))


def test_duplicate_vocab_message_names_the_word():
    with pytest.raises(AttnvizError, match="'the'"):
        Document(**parts(vocab=("the", "cat", "the")))


def test_upper_case_vocab_message_names_the_entry():
    with pytest.raises(AttnvizError, match=r"vocab\[1\]"):
        Document(**parts(vocab=("the", "Cat", "sat")))


@pytest.mark.parametrize("name", ["embeddings", "W_q", "W_k", "W_v", "W_o"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_raise_naming_the_matrix_and_index(name, bad):
    kw = parts()
    a = np.array(kw[name], copy=True)
    index = (1,) * a.ndim
    a[index] = bad
    with pytest.raises(AttnvizError, match=rf"{name}\[{', '.join(map(str, index))}\]"):
        Document(**parts(**{name: a}))


def test_residual_needs_matching_width():
    # W_o must map back to d_model whether or not residual is on
    with pytest.raises(AttnvizError, match=f"W_o has {D_MODEL + 1} columns but must have d_model = {D_MODEL}"):
        Document(**parts(W_o=np.zeros((H * D_V, D_MODEL + 1)), config=Config(residual=True)))
    # without W_o the output width is H·d_v = 4
    with pytest.raises(AttnvizError, match="residual"):
        Document(**parts(W_o=None, config=Config(residual=True)))
    # fitting widths are fine, with W_o or with H·d_v = d_model
    Document(**parts(config=Config(residual=True)))
    Document(**parts(W_v=np.zeros((1, D_MODEL, D_MODEL)), W_q=np.zeros((1, D_MODEL, D_K)),
                     W_k=np.zeros((1, D_MODEL, D_K)), W_o=None, config=Config(residual=True)))
    with pytest.raises(AttnvizError, match="W_o has 5 columns"):
        Document(**parts(W_o=np.zeros((H * D_V, 5))))


def test_replace_revalidates():
    doc = Document(**parts())
    with pytest.raises(AttnvizError, match="residual"):
        doc.replace(W_o=None, config=Config(residual=True))
    with pytest.raises(AttnvizError, match="W_q"):
        doc.replace(W_q=np.zeros((H, D_MODEL + 1, D_K)))
    other = doc.replace(sentence="sat")
    assert other.sentence == "sat" and doc.sentence == "the cat sat"


# ---------------------------------------------------------------------------
# Config


def test_config_defaults():
    c = Config()
    assert (c.scale, c.causal, c.temperature, c.positional_encoding, c.residual) == (True, False, 1.0, "sinusoidal",
                                                                                     False)


@pytest.mark.parametrize("t", [0, 0.0, -0.0, -1.0, -1e-300, math.nan, math.inf, -math.inf, True, False, "1", None,
                               [1.0], np.nan])
def test_bad_temperature_raises(t):
    with pytest.raises(AttnvizError, match="temperature"):
        Config(temperature=t)


def test_huge_integer_temperature_raises_attnviz_error():
    # e.g. JSON "1" followed by 400 zeros: too large for a float
    with pytest.raises(AttnvizError, match="temperature"):
        Config(temperature=10**400)
    with pytest.raises(AttnvizError, match="temperature"):
        Config(temperature=-(10**400))


@pytest.mark.parametrize(("t", "expected"), [(1, 1.0), (2, 2.0), (0.5, 0.5), (1e-300, 1e-300), (np.float64(3.0), 3.0)])
def test_good_temperatures_become_floats(t, expected):
    c = Config(temperature=t)
    assert c.temperature == expected and type(c.temperature) is float


@pytest.mark.parametrize("name", ["scale", "causal", "residual"])
@pytest.mark.parametrize("value", [1, 0, "true", None, 1.0])
def test_flags_must_be_bools(name, value):
    with pytest.raises(AttnvizError, match=name):
        Config(**{name: value})


@pytest.mark.parametrize("kind", ["learned", "Sinusoidal", "", None, "rope"])
def test_unknown_positional_encoding_raises(kind):
    with pytest.raises(AttnvizError, match="positional_encoding"):
        Config(positional_encoding=kind)


def test_config_from_dict():
    assert Config.from_dict({}) == Config()
    c = Config.from_dict({"causal": True, "temperature": 2})
    assert c == Config(causal=True, temperature=2.0)
    assert Config.from_dict(c.to_dict()) == c
    assert c.to_dict() == {"scale": True, "causal": True, "temperature": 2.0, "positional_encoding": "sinusoidal",
                           "residual": False}


def test_config_from_dict_rejects_unknown_keys_by_name():
    with pytest.raises(AttnvizError, match="'temprature'"):
        Config.from_dict({"temprature": 2.0})
    with pytest.raises(AttnvizError, match="'zzz'"):
        Config.from_dict({"scale": True, "zzz": 1})


@pytest.mark.parametrize("data", [None, [], "causal", 3])
def test_config_from_dict_rejects_non_objects(data):
    with pytest.raises(AttnvizError, match="config"):
        Config.from_dict(data)


def test_config_from_dict_validates_values():
    with pytest.raises(AttnvizError, match="temperature"):
        Config.from_dict({"temperature": 0})
    with pytest.raises(AttnvizError, match="causal"):
        Config.from_dict({"causal": "yes"})


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().temperature = 2.0


# ---------------------------------------------------------------------------
# Immutability


def test_arrays_are_read_only_copies():
    kw = parts()
    sources = {name: np.array(kw[name], copy=True) for name in ("embeddings", "W_q", "W_k", "W_v", "W_o")}
    doc = Document(**{**kw, **sources})
    for name, src in sources.items():
        a = getattr(doc, name)
        before = a.copy()
        assert not a.flags.writeable, name
        assert not np.shares_memory(a, src), name
        with pytest.raises(ValueError):
            a[(0,) * a.ndim] = 123.0
        src[...] = 42.0  # mutating the source afterwards...
        np.testing.assert_array_equal(a, before)  # ...does not reach the document


def test_nested_lists_are_copied_too():
    emb = [[1.0, 2.0]]
    doc = Document(vocab=("a",), embeddings=emb, W_q=[[[1.0], [0.0]]], W_k=[[[1.0], [0.0]]], W_v=[[[1.0], [0.0]]])
    emb[0][0] = 9.0
    assert doc.embeddings.tolist() == [[1.0, 2.0]]


def test_document_is_frozen():
    doc = Document(**parts())
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.sentence = "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.W_q = np.zeros((H, D_MODEL, D_K))


# ---------------------------------------------------------------------------
# equals


def test_equals_itself_and_an_identical_copy():
    a, b = Document(**parts()), Document(**parts())
    assert a.equals(a) and a.equals(b) and b.equals(a)


@pytest.mark.parametrize("name", ["embeddings", "W_q", "W_k", "W_v", "W_o"])
def test_equals_sees_a_one_ulp_change(name):
    a = Document(**parts())
    m = np.array(getattr(a, name), copy=True)
    m[(0,) * m.ndim] = np.nextafter(m[(0,) * m.ndim], np.inf)
    b = a.replace(**{name: m})
    assert not a.equals(b) and not b.equals(a)


def test_equals_sees_every_other_field():
    a = Document(**parts())
    assert not a.equals(a.replace(sentence="the cat"))
    assert not a.equals(a.replace(vocab=("the", "cat", "mat")))
    assert not a.equals(a.replace(config=Config(causal=True)))
    assert not a.equals(a.replace(config=Config(temperature=np.nextafter(1.0, 2.0))))
    assert not a.equals(a.replace(W_o=None))
    assert not a.replace(W_o=None).equals(a)
    # same values, different shape
    one_head = Document(vocab=("a",), embeddings=[[1.0, 2.0]], W_q=[[[1.0], [2.0]]], W_k=[[[1.0], [2.0]]],
                        W_v=[[[1.0], [2.0]]], W_o=[[1.0, 2.0]])
    # same four numbers, laid out (2, 2) instead of (1, 2)·(2, 1)
    transposed_wo = one_head.replace(W_o=[[1.0, 2.0], [3.0, 4.0]], W_v=[[[1.0, 2.0], [3.0, 4.0]]])
    assert not one_head.equals(transposed_wo)


def test_equals_is_bit_exact_for_signed_zero():
    a = Document(**parts(embeddings=np.zeros((3, D_MODEL))))
    b = Document(**parts(embeddings=-np.zeros((3, D_MODEL))))
    assert np.signbit(b.embeddings).all() and not np.signbit(a.embeddings).any()
    assert not a.equals(b)


def test_the_engine_takes_dimensions_past_what_the_window_shows():
    """attnviz compute and convert work on any size; the window's limit is the window's (model/document_model.py)."""
    w = np.zeros((4097, 2, 1))
    doc = Document(vocab=("a",), embeddings=np.zeros((1, 2)), W_q=w, W_k=w, W_v=w, sentence="a")
    assert doc.n_heads == 4097
