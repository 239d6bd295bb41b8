"""Weights files: every format round-trips every document bit-exactly, and saving is atomic."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from safetensors.numpy import save as st_save

from attnviz.engine import atomic, forward
from attnviz.engine import weightsfile as wf
from attnviz.engine.document import MATRICES, Config, Document
from attnviz.engine.errors import AttnvizError
from attnviz.engine.positional import KINDS
from tests.engine.lets_go import LETS_GO

PAIRS = list(itertools.product(wf.FORMATS, repeat=2))


# -----------------------------------------------------------------------------
# random documents

# NUL is excluded because .npz cannot store a trailing one, lone surrogates because
# nothing can store them as UTF-8; both are tested on their own below.
_chars = st.characters(codec="utf-8", exclude_characters="\x00")


def _valid_word(s: str) -> bool:
    """What a vocabulary holds: lower-case words a sentence reads as one token."""
    from attnviz.engine.tokenizer import tokenize

    return bool(s) and s == s.lower() and s.strip() == s and tokenize(s) == [s]


words = st.text(_chars, min_size=1, max_size=8).map(lambda s: s.strip().lower()).filter(_valid_word)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


def matrix(shape):
    return arrays(np.float64, shape, elements=finite)


@st.composite
def documents(draw):
    vocab = draw(st.lists(words, min_size=1, max_size=5, unique=True))
    d_model = draw(st.integers(1, 4))
    heads, d_k, d_v = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    w_o = draw(st.none() | matrix((heads * d_v, d_model)))
    width = w_o.shape[1] if w_o is not None else heads * d_v
    config = Config(
        scale=draw(st.booleans()),
        causal=draw(st.booleans()),
        temperature=draw(st.floats(min_value=1e-6, max_value=1e6)),
        positional_encoding=draw(st.sampled_from(KINDS)),
        residual=draw(st.booleans()) if width == d_model else False,
    )
    return Document(
        vocab=vocab,
        embeddings=draw(matrix((len(vocab), d_model))),
        W_q=draw(matrix((heads, d_model, d_k))),
        W_k=draw(matrix((heads, d_model, d_k))),
        W_v=draw(matrix((heads, d_model, d_v))),
        W_o=w_o,
        config=config,
        sentence=draw(st.text(_chars, max_size=30)),
    )


def assert_identical(a: Document, b: Document) -> None:
    """Document.equals, plus the raw bytes, so that -0.0 vs 0.0 would be caught too."""
    assert a.equals(b)
    for name in MATRICES:
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None and y is None) or (x.dtype == y.dtype == np.float64 and x.tobytes() == y.tobytes())


# -----------------------------------------------------------------------------
# round trips


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents())
def test_round_trip_through_every_pair_of_formats(doc):
    for first, second in PAIRS:
        once = wf.loads(wf.dumps(doc, first), first, f"a{first}")
        twice = wf.loads(wf.dumps(once, second), second, f"b{second}")
        assert_identical(doc, twice)


@pytest.mark.parametrize("suffix", wf.FORMATS)
def test_save_then_load_file(tmp_path, suffix):
    doc = _doc()
    path = tmp_path / f"weights{suffix.upper()}"  # the extension is case-insensitive
    wf.save(doc, path)
    assert_identical(doc, wf.load(path))


def test_dumps_is_deterministic():
    # Not .safetensors: the library writes its header keys in hash-map order.
    for suffix in (".json", ".npz"):
        assert wf.dumps(_doc(), suffix) == wf.dumps(_doc(), suffix)


def test_extremes_round_trip():
    tiny, huge = 5e-324, np.finfo(np.float64).max
    doc = _doc(embeddings=[[tiny, -0.0], [huge, -huge]], W_q=[[[0.1, 1 / 3], [2**-1074, 1e-310]]])
    for first, second in PAIRS:
        assert_identical(doc, wf.loads(wf.dumps(wf.loads(wf.dumps(doc, first), first, "a"), second), second, "b"))


def test_unicode_round_trip():
    doc = Document(vocab=("🍕",), embeddings=np.zeros((1, 3)), W_q=np.ones((2, 3, 1)), W_k=np.ones((2, 3, 1)),
                   W_v=np.ones((2, 3, 2)), sentence="naïve café 🍕 \u2028 “quoted”")
    for suffix in wf.FORMATS:
        assert_identical(doc, wf.loads(wf.dumps(doc, suffix), suffix, "x"))


# -----------------------------------------------------------------------------
# the JSON layout a person edits


def test_json_is_readable():
    text = wf.dumps(_doc(sentence="Pizza 🍕"), ".json").decode("utf-8")
    assert "  [1.87, 0.09]," in text.splitlines()  # a matrix row per line
    assert "🍕" in text  # not \ud83c\udf55
    data = json.loads(text)  # plain JSON, nothing special
    assert data["format"] == "attnviz-weights" and data["version"] == 1 and data["W_o"] is None
    assert data["config"] == Config().to_dict()


def test_json_minimal_hand_written_file():
    """Only the required keys; 2-D W means one head; ints are fine; defaults fill the rest."""
    text = '{"vocab": ["a", "b"], "embeddings": [[1, 0], [0, 1]], "W_q": [[1, 0], [0, 1]],'
    text += ' "W_k": [[1, 0], [0, 1]], "W_v": [[2, 0], [0, 2]]}'
    doc = wf.loads(text.encode(), ".json", "mini.json")
    assert doc.n_heads == 1 and doc.W_q.shape == (1, 2, 2) and doc.W_o is None
    assert doc.config == Config() and doc.sentence == ""
    assert doc.W_v[0, 0, 0] == 2.0


def test_json_with_byte_order_mark():
    assert_identical(_doc(), wf.loads(b"\xef\xbb\xbf" + wf.dumps(_doc(), ".json"), ".json", "bom.json"))


def test_json_partial_config_takes_defaults():
    data = json.loads(wf.dumps(_doc(), ".json"))
    data["config"] = {"causal": True}
    doc = wf.loads(json.dumps(data).encode(), ".json", "x.json")
    assert doc.config == Config(causal=True)


def test_emoji_are_vocabulary_words_a_sentence_finds():
    """A heart with its selector, a family joined by ZWJ and a flag are each one token, so one word."""
    heart, family, flag = "\u2764\ufe0f", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f1eb\U0001f1f7"
    text = json.dumps({"vocab": ["i", heart, family, flag], "embeddings": [[1], [2], [3], [4]],
                       "W_q": [[1]], "W_k": [[1]], "W_v": [[1]], "sentence": f"I {heart} my {family}{flag}"})
    doc = wf.loads(text.encode(), ".json", "emoji.json")
    assert forward(doc).token_ids == (0, 1, -1, 2, 3)


# -----------------------------------------------------------------------------
# a sentence's words outside the vocabulary, as docs/file-format.md tells another program to compute them

DOCS = Path(__file__).resolve().parents[2] / "docs" / "file-format.md"


def _docs_recipe() -> tuple[str, str]:
    """The prose and the Python code block of the docs' section on words outside the vocabulary."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("### Words outside the vocabulary")
    section = text[start : text.index("\n#", start + 1)]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "the section shows the recipe in Python"
    return " ".join(section.split()), code.group(1)


@pytest.mark.parametrize("word", ["Zebra", "日本語", "ПРИВЕТ", "don’t", "\u2764\ufe0f"])
def test_the_docs_recipe_gives_the_vector_of_a_word_outside_the_vocabulary(word):
    prose, code = _docs_recipe()
    for fact in ("lower-cased with Python's `str.lower()`", "encoded as UTF-8", "BLAKE2b with an 8-byte digest size",
                 "not the first 8 bytes of the default 64-byte digest", "little-endian unsigned integer",
                 "PCG64", "`d_model` standard normals", "rounded to 2 decimals"):
        assert fact in prose, f"docs/file-format.md should say {fact!r}"
    namespace = {"hashlib": hashlib, "np": np, "word": word, "d_model": 5}
    exec(code, namespace)
    vector = _unknown_word_as_the_app_sees_it(word, 5)
    assert namespace["vector"].tolist() == vector.tolist()
    # what the docs used to say, the first 8 bytes of the default digest, gives another vector
    seed = int.from_bytes(hashlib.blake2b(word.lower().encode("utf-8")).digest()[:8], "little")
    assert np.round(np.random.Generator(np.random.PCG64(seed)).standard_normal(5), 2).tolist() != vector.tolist()
    assert _unknown_word_as_the_app_sees_it(word, 8)[:5].tolist() == vector.tolist()  # "do not depend on d_model"


def _unknown_word_as_the_app_sees_it(word: str, d_model: int) -> np.ndarray:
    w = np.zeros((1, d_model, 1))
    doc = Document(vocab=("a",), embeddings=np.zeros((1, d_model)), W_q=w, W_k=w, W_v=w, sentence=f"a {word}")
    result = forward(doc)
    assert result.token_ids == (0, -1)
    return result.embeddings[1]


# -----------------------------------------------------------------------------
# other dtypes and 2-D matrices in the binary formats


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int32, np.int64, np.uint8, ">f8"])
def test_npz_accepts_real_dtypes(dtype):
    doc = _doc()
    arrays_ = _npz_arrays(doc)
    for name in ("embeddings", "W_q", "W_k", "W_v"):
        arrays_[name] = (arrays_[name] * 4).astype(dtype)
    loaded = wf.loads(_npz(arrays_), ".npz", "x.npz")
    for name in ("embeddings", "W_q", "W_k", "W_v"):
        expected = (getattr(doc, name) * 4).astype(dtype).astype(np.float64)
        assert getattr(loaded, name).dtype == np.float64
        assert np.array_equal(getattr(loaded, name), expected)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int16])
def test_safetensors_accepts_real_dtypes(dtype):
    doc = _doc()
    tensors = {name: (getattr(doc, name) * 4).astype(dtype) for name in ("embeddings", "W_q", "W_k", "W_v")}
    loaded = wf.loads(st_save(tensors, metadata=_metadata(doc)), ".safetensors", "x.safetensors")
    for name, t in tensors.items():
        assert np.array_equal(getattr(loaded, name), t.astype(np.float64))


def test_two_d_weights_mean_one_head_in_every_format():
    doc = _doc()
    two_d = {name: getattr(doc, name)[0] for name in ("W_q", "W_k", "W_v")}
    arrays_ = {**_npz_arrays(doc), **two_d}
    assert_identical(doc, wf.loads(_npz(arrays_), ".npz", "x.npz"))
    tensors = {"embeddings": doc.embeddings, **two_d}
    assert_identical(doc, wf.loads(st_save(tensors, metadata=_metadata(doc)), ".safetensors", "x.safetensors"))
    data = json.loads(wf.dumps(doc, ".json"))
    data.update({name: w.tolist() for name, w in two_d.items()})
    assert_identical(doc, wf.loads(json.dumps(data).encode(), ".json", "x.json"))


def test_safetensors_ignores_no_tensor_but_refuses_unknown_one():
    doc = _doc()
    tensors = {name: getattr(doc, name) for name in ("embeddings", "W_q", "W_k", "W_v")}
    with pytest.raises(AttnvizError, match="unknown key 'bias'"):
        wf.loads(st_save({**tensors, "bias": np.zeros(2)}, metadata=_metadata(doc)), ".safetensors", "x.safetensors")


# -----------------------------------------------------------------------------
# text no format can hold


def test_npz_refuses_trailing_nul():
    with pytest.raises(AttnvizError, match="NUL"):
        wf.dumps(_doc(sentence="end\x00"), ".npz")
    assert wf.loads(wf.dumps(_doc(sentence="end\x00"), ".json"), ".json", "x").sentence == "end\x00"


def test_a_lone_surrogate_never_reaches_a_document_so_never_a_file():
    with pytest.raises(AttnvizError, match=r"the sentence holds U\+DC80 at character 5"):
        _doc(sentence="bad \udc80")
    with pytest.raises(AttnvizError, match=r"vocab\[0\] holds U\+D800"):
        _doc(vocab=("\ud800",))


def test_unknown_suffix():
    with pytest.raises(AttnvizError, match=r"unknown file type '\.csv'"):
        wf.dumps(_doc(), ".csv")
    with pytest.raises(AttnvizError) as err:
        wf.save(_doc(), "/nonexistent/w.txt")
    assert str(err.value).startswith("w.txt: unknown file type")


# -----------------------------------------------------------------------------
# atomic saving


def test_failed_replace_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "w.json"
    path.write_bytes(b"old contents")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(AttnvizError) as err:
        wf.save(_doc(), path)
    assert str(err.value) == "w.json: cannot save (No space left on device)"
    assert path.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["w.json"]


def test_write_failing_half_way_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    wf.save(_doc(sentence="old"), path)
    old = path.read_bytes()
    real_fdopen = os.fdopen

    class HalfWriter:
        """Writes the first half of the data, then the disk is full."""

        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(AttnvizError, match="No space left"):
        wf.save(_doc(sentence="new"), path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["w.safetensors"]


def test_failed_fsync_leaves_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    path.write_bytes(b"old")

    def broken_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(AttnvizError, match="Input/output error"):
        wf.save(_doc(), path)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["w.npz"]


def test_save_into_missing_folder(tmp_path):
    with pytest.raises(AttnvizError) as err:
        wf.save(_doc(), tmp_path / "no" / "such" / "w.json")
    msg = str(err.value)
    assert msg.startswith("w.json: cannot save") and "\n" not in msg


def test_save_into_unwritable_folder(tmp_path, monkeypatch):
    """As root a chmod'ed folder is still writable, so the refusal is simulated at mkstemp."""

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    with pytest.raises(AttnvizError) as err:
        wf.save(_doc(), tmp_path / "w.json")
    assert str(err.value) == "w.json: cannot save (Permission denied)"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write anywhere")
def test_save_into_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(AttnvizError) as err:
            wf.save(_doc(), folder / "w.json")
        assert str(err.value) == "w.json: cannot save (Permission denied)"
    finally:
        folder.chmod(0o700)


def test_save_keeps_permissions_of_existing_file(tmp_path):
    path = tmp_path / "w.json"
    path.write_bytes(b"old")
    path.chmod(0o640)
    wf.save(_doc(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert_identical(_doc(), wf.load(path))


def test_new_file_gets_umask_permissions_not_mkstemp_private(tmp_path):
    path = tmp_path / "w.json"
    old = os.umask(0o022)
    try:
        wf.save(_doc(), path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_save_through_symlink_writes_the_target(tmp_path):
    target = tmp_path / "real.json"
    target.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    wf.save(_doc(), link)
    assert link.is_symlink()
    assert_identical(_doc(), wf.load(target))


# -----------------------------------------------------------------------------
# helpers


def _doc(**changes) -> Document:
    return LETS_GO.replace(**changes) if changes else LETS_GO


def _npz_arrays(doc: Document) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(wf.dumps(doc, ".npz"))) as npz:
        return {k: npz[k] for k in npz.files}


def _npz(arrays_: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays_)
    return buf.getvalue()


def _metadata(doc: Document) -> dict[str, str]:
    data = json.loads(wf.dumps(doc, ".json"))
    return {k: json.dumps(data[k]) for k in wf.STRING_KEYS}


def test_save_does_not_replace_a_read_only_file(tmp_path, monkeypatch):
    # a rename needs only the folder's permission: the file's own was never asked
    target = tmp_path / "w.json"
    wf.save(_doc(), target)
    before = target.read_bytes()
    real_access = os.access
    monkeypatch.setattr(atomic.os, "access", lambda p, mode: False if Path(p) == target else real_access(p, mode))
    with pytest.raises(AttnvizError) as err:
        wf.save(_doc().replace(sentence="changed"), target)
    assert str(err.value) == "w.json: cannot save (the file is read-only)"
    assert target.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["w.json"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_save_does_not_turn_a_named_pipe_into_a_file(tmp_path):
    pipe = tmp_path / "w.json"
    os.mkfifo(pipe)
    with pytest.raises(AttnvizError) as err:
        wf.save(_doc(), pipe)
    assert str(err.value) == "w.json: cannot save (it is not a regular file)"
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and sorted(os.listdir(tmp_path)) == ["w.json"]


@pytest.mark.parametrize("suffix", [".json", ".npz", ".safetensors"])
def test_a_file_named_only_by_its_extension_is_that_format(tmp_path, suffix):
    path = tmp_path / suffix  # Path(".json").suffix is "": a hidden file without one
    wf.save(_doc(), path)
    assert wf.load(path).equals(_doc())
    assert sorted(os.listdir(tmp_path)) == [suffix]


def test_a_newline_in_a_file_name_does_not_break_the_message(tmp_path):
    with pytest.raises(AttnvizError) as err:
        wf.load(tmp_path / "two\nlines.json")
    assert str(err.value) == "two lines.json: no such file"
