"""Malformed weights files: each must give ONE AttnvizError of one line, naming the file and the problem.

Every case is a file on disk loaded with ``weightsfile.load``. ``pytest.raises``
catches only AttnvizError, so any other exception type escaping fails the test.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save as st_save

from attnviz.engine import weightsfile as wf
from attnviz.engine.errors import AttnvizError
from attnviz.engine.examples import load_example
from tests.engine.lets_go import LETS_GO

DOC = LETS_GO
DROP = object()  # marks a key to remove


def assert_one_line_error(err: pytest.ExceptionInfo, name: str, fragment: str) -> None:
    msg = str(err.value)
    assert type(err.value) is AttnvizError
    assert "\n" not in msg and "\r" not in msg, msg
    assert len(msg) < 400, f"{len(msg)} characters: {msg[:200]}…"  # one line fits a dialog, whatever the file holds
    assert msg.startswith(f"{name}: "), msg
    assert fragment in msg, msg


def load_bytes(tmp_path, suffix: str, data: bytes, fragment: str) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(data)
    with pytest.raises(AttnvizError) as err:
        wf.load(path)
    assert_one_line_error(err, path.name, fragment)


# -----------------------------------------------------------------------------
# builders: a good file with one thing changed


def _apply(d: dict, changes: dict) -> dict:
    for key, value in changes.items():
        if value is DROP:
            d.pop(key, None)
        else:
            d[key] = value
    return d


def json_doc(**changes) -> bytes:
    return json.dumps(_apply(json.loads(wf.dumps(DOC, ".json")), changes)).encode()


def json_config(**changes) -> bytes:
    return json_doc(config=_apply(DOC.config.to_dict(), changes))


def json_text(old: str, new: str) -> bytes:
    """Edit the canonical JSON text, for what json.dumps would not write (NaN tokens, huge literals)."""
    text = wf.dumps(DOC, ".json").decode()
    assert old in text
    return text.replace(old, new, 1).encode()


def npz_doc(**changes) -> bytes:
    with np.load(io.BytesIO(wf.dumps(DOC, ".npz"))) as npz:
        arrays = _apply({k: npz[k] for k in npz.files}, changes)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # savez itself allows pickles: it is the reader that must refuse them
    return buf.getvalue()


def st_doc(tensors: dict | None = None, metadata: dict | None = None) -> bytes:
    t = _apply({k: getattr(DOC, k) for k in ("embeddings", "W_q", "W_k", "W_v")}, tensors or {})
    m = {k: json.dumps(v) for k, v in json.loads(wf.dumps(DOC, ".json")).items() if k in wf.STRING_KEYS}
    return st_save(t, metadata=_apply(m, metadata or {}))


def nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def deep_list(depth: int) -> list:
    value: list | float = 1.0
    for _ in range(depth):
        value = [value]
    return value


def zip_with(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for key in ("vocab", "embeddings", "W_q", "W_k", "W_v"):
            member = io.BytesIO()
            np.save(member, getattr(DOC, key) if key != "vocab" else np.array(DOC.vocab))
            z.writestr(f"{key}.npy", member.getvalue())
        with warnings.catch_warnings():  # a member twice is the point of one case
            warnings.simplefilter("ignore", UserWarning)
            z.writestr(name, data)
    return buf.getvalue()


def npy_member(a: np.ndarray) -> bytes:
    member = io.BytesIO()
    np.save(member, a)
    return member.getvalue()


def npy_bytes() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))
    return buf.getvalue()


RANDOM = bytes(range(256)) * 4
W3 = [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]]  # one head, d_model 2, d = 3

# (id, suffix, builder, expected fragment)
CASES: list[tuple[str, str, Callable[[], bytes], str]] = [
    # damaged or foreign bytes
    ("json-truncated", ".json", lambda: wf.dumps(DOC, ".json")[:60], "not valid JSON"),
    ("npz-truncated-head", ".npz", lambda: wf.dumps(DOC, ".npz")[:100], "damaged .npz"),
    ("npz-truncated-tail", ".npz", lambda: wf.dumps(DOC, ".npz")[:-30], "damaged .npz"),
    ("st-truncated-data", ".safetensors", lambda: st_doc()[:-5], "damaged .safetensors"),
    ("st-truncated-header", ".safetensors", lambda: st_doc()[:40], "header claims"),
    ("st-too-short", ".safetensors", lambda: b"\x01\x02\x03", "too short"),
    ("json-random-bytes", ".json", lambda: RANDOM, "not UTF-8"),
    ("npz-random-bytes", ".npz", lambda: RANDOM, "not an .npz file"),
    ("npz-is-npy", ".npz", npy_bytes, "not an .npz file"),
    ("st-random-bytes", ".safetensors", lambda: RANDOM, "header claims"),
    ("st-oversize-header-length", ".safetensors", lambda: (10**15).to_bytes(8, "little") + b"{}", "header claims"),
    ("st-header-not-json", ".safetensors", lambda: (5).to_bytes(8, "little") + b"hello", "not valid JSON"),
    ("st-header-not-object", ".safetensors", lambda: (2).to_bytes(8, "little") + b"[]", "not a JSON object"),
    ("st-header-not-utf8", ".safetensors", lambda: (2).to_bytes(8, "little") + b"\xff\xfe", "not UTF-8"),
    ("json-bad-syntax", ".json", lambda: b'{"vocab": ["a",}', "not valid JSON"),
    ("json-top-level-list", ".json", lambda: b"[1, 2]", "top level must be a JSON object"),
    ("json-empty", ".json", lambda: b"", "empty"),
    ("npz-empty", ".npz", lambda: b"", "empty"),
    ("st-empty", ".safetensors", lambda: b"", "empty"),
    ("json-deeply-nested", ".json", lambda: nested(100_000), "nested too deeply"),
    ("json-deep-matrix", ".json", lambda: json_doc(W_q=deep_list(80)), "W_q is not a rectangular"),
    ("json-duplicate-key", ".json", lambda: json_text('"version": 1,', '"version": 1, "version": 1,'), "appears twice"),
    # missing or unknown keys
    *[(f"json-missing-{k}", ".json", (lambda k=k: json_doc(**{k: DROP})), f"missing key {k!r}")
      for k in ("vocab", "embeddings", "W_q", "W_k", "W_v")],
    ("npz-missing-W_q", ".npz", lambda: npz_doc(W_q=DROP), "missing key 'W_q'"),
    ("st-missing-W_v", ".safetensors", lambda: st_doc(tensors={"W_v": DROP}), "missing key 'W_v'"),
    ("st-missing-vocab", ".safetensors", lambda: st_doc(metadata={"vocab": DROP}), "missing key 'vocab'"),
    ("json-null-W_k", ".json", lambda: json_doc(W_k=None), "W_k is null"),
    ("json-unknown-key", ".json", lambda: json_doc(W_x=[[1.0]]), "unknown key 'W_x'"),
    ("npz-unknown-array", ".npz", lambda: npz_doc(bias=np.zeros(2)), "unknown key 'bias'"),
    ("npz-non-npy-member", ".npz", lambda: zip_with("notes.txt", b"hello"), "not a NumPy array"),
    # NumPy would take the second W_q, where JSON and safetensors refuse a key twice
    ("npz-member-twice", ".npz", lambda: zip_with("W_q.npy", npy_member(DOC.W_q * 2)), "'W_q' appears twice"),
    # shapes
    ("W_k-shape-differs", ".json", lambda: json_doc(W_k=W3), "W_k has shape (1, 2, 3) but W_q has (1, 2, 2)"),
    ("embeddings-rows", ".json", lambda: json_doc(embeddings=[[1.0, 2.0]] * 3), "has 3 rows but vocab has 2"),
    ("embeddings-1d", ".json", lambda: json_doc(embeddings=[1.0, 2.0]), "embeddings must be 2-D"),
    ("W_q-rows", ".json", lambda: json_doc(W_q=[[[1.0]] * 3], W_k=[[[1.0]] * 3]), "W_q has 3 rows"),
    ("W_q-4d", ".json", lambda: json_doc(W_q=[W3]), "W_q must be 3-D"),
    ("W_v-heads", ".json", lambda: json_doc(W_v=[W3[0], W3[0]]), "W_v has 2 heads but W_q has 1"),
    ("ragged-rows", ".json", lambda: json_doc(embeddings=[[1.0, 2.0], [3.0]]), "embeddings is not a rectangular"),
    ("W_o-wrong-rows", ".json", lambda: json_doc(W_o=[[1.0, 0.0]] * 3), "W_o has shape (3, 2)"),
    ("residual-width", ".json", lambda: json_doc(W_v=W3, config={"residual": True}), "residual needs"),
    ("npz-W_k-shape", ".npz", lambda: npz_doc(W_k=np.ones((2, 2, 2))), "W_k has shape (2, 2, 2) but W_q has (1, 2, 2)"),
    # non-finite values
    ("json-NaN-token", ".json", lambda: json_text("0.54", "NaN"), "NaN"),
    ("json-Infinity-token", ".json", lambda: json_text("0.54", "Infinity"), "Infinity"),
    ("json-minus-Infinity-token", ".json", lambda: json_text("0.54", "-Infinity"), "-Infinity"),
    ("json-1e999", ".json", lambda: json_text("0.54", "1e999"), "W_q[0, 0, 0] is inf, but every value must be finite"),
    ("json-huge-int", ".json", lambda: json_text("0.54", "9" * 400), "W_q holds an integer too large"),
    ("npz-nan", ".npz", lambda: npz_doc(W_v=np.array([[[0.1, np.nan], [0.3, 0.4]]])), "W_v[0, 0, 1] is nan"),
    ("npz-inf", ".npz", lambda: npz_doc(embeddings=np.array([[1.0, 2.0], [np.inf, 0.0]])), "embeddings[1, 0] is inf"),
    ("st-nan", ".safetensors", lambda: st_doc(tensors={"W_k": np.full((1, 2, 2), np.nan)}), "W_k[0, 0, 0] is nan"),
    ("st-neg-inf", ".safetensors", lambda: st_doc(tensors={"W_q": np.full((1, 2, 2), -np.inf)}), "is -inf"),
    # element types
    ("npz-object-array", ".npz", lambda: npz_doc(W_q=np.array([[[1, 2], [3, 4]]], dtype=object)), "pickled"),
    ("npz-bool", ".npz", lambda: npz_doc(W_q=np.ones((1, 2, 2), dtype=bool)), "W_q holds true/false values"),
    ("npz-complex", ".npz", lambda: npz_doc(W_k=np.ones((1, 2, 2), dtype=complex)), "W_k holds complex values"),
    ("npz-strings", ".npz", lambda: npz_doc(W_v=np.full((1, 2, 2), "x")), "W_v holds text values"),
    ("npz-vocab-floats", ".npz", lambda: npz_doc(vocab=np.zeros(2)), "vocab must be a 1-D array of strings"),
    ("st-bool", ".safetensors", lambda: st_doc(tensors={"W_q": np.ones((1, 2, 2), dtype=bool)}), "W_q has dtype BOOL"),
    ("json-bool-entry", ".json", lambda: json_doc(embeddings=[[1.0, True], [0.0, 0.0]]), "embeddings[0, 1] is true;"),
    ("json-string-entry", ".json", lambda: json_doc(W_v=[[["a", 1.0], [0.0, 0.0]]]), 'W_v[0, 0, 0] is the string "a"'),
    ("json-null-entry", ".json", lambda: json_doc(W_q=[[[None, 1.0], [0.0, 0.0]]]), "W_q[0, 0, 0] is null;"),
    ("json-matrix-is-string", ".json", lambda: json_doc(embeddings="zeros"), "embeddings is the string"),
    # vocabulary
    ("vocab-duplicate", ".json", lambda: json_doc(vocab=["go", "go"]), "vocab has 'go' twice"),
    ("vocab-empty-word", ".json", lambda: json_doc(vocab=["let's", ""]), "vocab[1] must be a non-empty"),
    ("vocab-empty", ".json", lambda: json_doc(vocab=[], embeddings=[]), "vocab is empty; it must hold at least one"),
    ("npz-vocab-empty", ".npz", lambda: npz_doc(vocab=np.array([], dtype=str), embeddings=np.zeros((0, 2))),
     "vocab is empty"),
    ("st-vocab-empty", ".safetensors",
     lambda: st_doc(tensors={"embeddings": np.zeros((0, 2))}, metadata={"vocab": "[]"}), "vocab is empty"),
    ("vocab-not-string", ".json", lambda: json_doc(vocab=["let's", 3]), "vocab[1] must be a string"),
    ("vocab-not-list", ".json", lambda: json_doc(vocab="let's go"), "vocab must be a list"),
    ("vocab-upper-case", ".json", lambda: json_doc(vocab=["Let's", "go"]), "lower-case"),
    ("vocab-two-words", ".json", lambda: json_doc(vocab=["let's", "new york"]),
     "vocab[1] 'new york' is not one token (a sentence reads it as 'new', 'york')"),
    ("vocab-word-and-comma", ".json", lambda: json_doc(vocab=["let's", "go,"]), "vocab[1] 'go,' is not one token"),
    ("vocab-long-word-of-many-tokens", ".json", lambda: json_doc(vocab=["let's", "a," * 3000]),
     "vocab[1] 'a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,… is not one token (a sentence reads it as 'a', ',', 'a', …)"),
    # config, format, version, sentence
    ("temperature-hot", ".json", lambda: json_config(temperature="hot"), "config.temperature"),
    ("temperature-zero", ".json", lambda: json_config(temperature=0), "config.temperature"),
    ("temperature-negative", ".json", lambda: json_config(temperature=-1), "config.temperature"),
    ("temperature-1e999", ".json", lambda: json_text('"temperature": 1.0', '"temperature": 1e999'), "got inf"),
    ("scale-yes", ".json", lambda: json_config(scale="yes"), "config.scale must be true or false"),
    ("causal-one", ".json", lambda: json_config(causal=1), "config.causal must be true or false"),
    ("positional-unknown", ".json", lambda: json_config(positional_encoding="learned"), "config.positional_encoding"),
    ("config-unknown-key", ".json", lambda: json_config(dropout=0.1), "config has unknown key 'dropout'"),
    ("config-not-object", ".json", lambda: json_doc(config=[1, 2]), "config must be an object"),
    ("npz-config-bad-json", ".npz", lambda: npz_doc(config=np.array("{scale: yes}")), "config is not valid JSON"),
    ("st-metadata-bad-json", ".safetensors", lambda: st_doc(metadata={"vocab": "[let's"}), "metadata 'vocab'"),
    ("format-unknown", ".json", lambda: json_doc(format="gpt2-weights"), "format is 'gpt2-weights'"),
    ("npz-format-unknown", ".npz", lambda: npz_doc(format=np.array("keras")), "format is 'keras'"),
    ("version-2", ".json", lambda: json_doc(version=2), "version 2 is not supported"),
    ("st-version-2", ".safetensors", lambda: st_doc(metadata={"version": "2"}), "version 2 is not supported"),
    ("version-text", ".json", lambda: json_doc(version="one"), 'version must be the integer 1, got the string "one"'),
    # the text "1" is what .npz stores, but JSON has numbers: the docs say the integer 1
    ("version-1-as-text", ".json", lambda: json_doc(version="1"), 'version must be the integer 1, got the string "1"'),
    ("st-version-1-as-text", ".safetensors", lambda: st_doc(metadata={"version": '"1"'}),
     'version must be the integer 1, got the string "1"'),
    ("version-5000-digits-text", ".json", lambda: json_doc(version="1" * 5000), 'got the string "111'),
    ("npz-version-2", ".npz", lambda: npz_doc(version=np.array("2")), "version 2 is not supported"),
    ("npz-version-text", ".npz", lambda: npz_doc(version=np.array("one")), "version must be the text '1', got 'one'"),
    # past Python's 4300-digit limit for int(): a message about the file, not about Python's settings
    ("npz-version-5000-digits", ".npz", lambda: npz_doc(version=np.array("1" * 5000)), "version '111"),
    ("version-5000-digits", ".json", lambda: json_text('"version": 1', '"version": ' + "1" * 5000),
     "a whole number of more than 4300 digits"),
    ("npz-config-a-number", ".npz", lambda: npz_doc(config=np.array(5)), "config must be JSON text"),
    ("sentence-number", ".json", lambda: json_doc(sentence=42), "sentence must be a string"),
    ("sentence-lone-surrogate", ".json", lambda: json_doc(sentence="go \ud83d now"),
     "the sentence holds U+D83D at character 4, half of a UTF-16 pair"),
    ("vocab-lone-surrogate", ".json", lambda: json_doc(vocab=["let's", "g\udcff"]), "vocab[1] holds U+DCFF"),
]


@pytest.mark.parametrize(("suffix", "build", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_file(tmp_path, suffix, build, fragment):
    load_bytes(tmp_path, suffix, build(), fragment)


def test_there_are_many_distinct_cases():
    assert len({c[0] for c in CASES}) == len(CASES) >= 40
    assert len({(c[1], c[2]()) for c in CASES}) == len(CASES)  # no two cases are the same file


def test_good_builders_are_good(tmp_path):
    """The builders with no change give loadable files, so each case fails for its own reason."""
    for suffix, data in [(".json", json_doc()), (".npz", npz_doc()), (".safetensors", st_doc())]:
        path = tmp_path / f"good{suffix}"
        path.write_bytes(data)
        assert wf.load(path).equals(DOC)


# -----------------------------------------------------------------------------
# the example messages docs/file-format.md shows are what attnviz says


def _pizza_npz(**changes) -> bytes:
    with np.load(io.BytesIO(wf.dumps(load_example("pizza"), ".npz"))) as npz:
        arrays = _apply({k: npz[k] for k in npz.files}, changes)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _pizza_json(old: str, new: str, after: str) -> bytes:
    """The pizza example's JSON with the first ``old`` after ``after`` replaced by ``new``."""
    text = wf.dumps(load_example("pizza"), ".json").decode()
    at = text.index(old, text.index(after))
    return (text[:at] + new + text[at + len(old) :]).encode()


DOCUMENTED_MESSAGES: dict[str, Callable[[], bytes]] = {
    "pizza.npz: W_k has shape (1, 4, 3) but W_q has (1, 4, 2)": lambda: _pizza_npz(W_k=np.zeros((1, 4, 3))),
    "pizza.json: W_q[0, 1, 0] is inf, but every value must be finite": lambda: _pizza_json("-0.03", "1e999", '"W_q"'),
    "pizza.json: config.temperature must be a finite number > 0, got 'hot'":
        lambda: _pizza_json("1.0", '"hot"', '"temperature"'),
    "pizza.npz: W_o is a pickled object array; attnviz never loads pickles":
        lambda: _pizza_npz(W_o=np.array([[None]], dtype=object)),
}


def test_the_docs_example_messages_are_real(tmp_path):
    docs = (Path(__file__).resolve().parents[2] / "docs" / "file-format.md").read_text(encoding="utf-8")
    section = docs[docs.index("## Validation and errors") :]
    shown = section.split("```")[1].strip().splitlines()
    assert shown == list(DOCUMENTED_MESSAGES), "every message the docs show is built below"
    for message, build in DOCUMENTED_MESSAGES.items():
        path = tmp_path / message.split(":")[0]
        path.write_bytes(build())
        with pytest.raises(AttnvizError) as err:
            wf.load(path)
        assert str(err.value) == message


# -----------------------------------------------------------------------------
# pickles are never executed


class _Touch:
    """Unpickling this creates ``marker``: the side effect we must never see."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def pickle_npz(marker) -> bytes:
    member = io.BytesIO()
    np.save(member, np.array([_Touch(str(marker))], dtype=object), allow_pickle=True)
    return zip_with("W_o.npy", member.getvalue())


def test_pickle_in_npz_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    load_bytes(tmp_path, ".npz", pickle_npz(marker), "W_o is a pickled object array")
    assert not marker.exists()


def test_the_pickle_payload_is_real(tmp_path):
    """Sanity check of the test above: loading the same bytes with pickles allowed does run it."""
    marker = tmp_path / "ran"
    with np.load(io.BytesIO(pickle_npz(marker)), allow_pickle=True) as npz:
        npz["W_o"]
    assert marker.exists()


def test_raw_pickle_file_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    load_bytes(tmp_path, ".npz", pickle.dumps(_Touch(str(marker))), "not an .npz file")
    assert not marker.exists()


# -----------------------------------------------------------------------------
# the file itself: name, kind, size, permissions


def test_wrong_extension(tmp_path):
    load_bytes_path = tmp_path / "weights.txt"
    load_bytes_path.write_bytes(json_doc())
    with pytest.raises(AttnvizError) as err:
        wf.load(load_bytes_path)
    assert_one_line_error(err, "weights.txt", "unknown file type '.txt'")


def test_no_extension(tmp_path):
    path = tmp_path / "weights"
    path.write_bytes(json_doc())
    with pytest.raises(AttnvizError) as err:
        wf.load(path)
    assert_one_line_error(err, "weights", "no extension")


def test_directory(tmp_path):
    path = tmp_path / "folder.json"
    path.mkdir()
    with pytest.raises(AttnvizError) as err:
        wf.load(path)
    assert_one_line_error(err, "folder.json", "is a folder")


def test_missing_file(tmp_path):
    with pytest.raises(AttnvizError) as err:
        wf.load(tmp_path / "nothing.npz")
    assert_one_line_error(err, "nothing.npz", "no such file")


def test_file_over_size_limit_is_not_read(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    path.write_bytes(json_doc())
    monkeypatch.setattr(wf, "MAX_FILE_BYTES", 100)
    monkeypatch.setattr(wf, "open", _must_not_open, raising=False)
    with pytest.raises(AttnvizError) as err:
        wf.load(path)
    assert_one_line_error(err, "big.json", "over the 100 bytes limit")


def _must_not_open(*args, **kwargs):
    raise AssertionError("the file was opened although it is over the size limit")


def test_npz_that_unpacks_too_big(tmp_path, monkeypatch):
    buf = io.BytesIO()
    np.savez_compressed(buf, W_q=np.zeros((1, 300, 300)))  # 720 kB of zeros compress to almost nothing
    monkeypatch.setattr(wf, "MAX_FILE_BYTES", 100_000)
    assert len(buf.getvalue()) < 100_000
    load_bytes(tmp_path, ".npz", buf.getvalue(), "unpacks to")


def test_unreadable_file_via_open(tmp_path, monkeypatch):
    path = tmp_path / "secret.json"
    path.write_bytes(json_doc())

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(wf, "open", refuse, raising=False)
    with pytest.raises(AttnvizError) as err:
        wf.load(path)
    assert_one_line_error(err, "secret.json", "permission denied")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_chmod(tmp_path):
    path = tmp_path / "secret.npz"
    path.write_bytes(npz_doc())
    path.chmod(0)
    try:
        with pytest.raises(AttnvizError) as err:
            wf.load(path)
        assert_one_line_error(err, "secret.npz", "permission denied")
    finally:
        path.chmod(0o600)


def test_loads_with_unknown_suffix():
    with pytest.raises(AttnvizError) as err:
        wf.loads(json_doc(), ".csv", "x.csv")
    assert_one_line_error(err, "x.csv", "unknown file type '.csv'")
