"""Read and write weights files: .json, .npz and .safetensors, all the same Document.

The three formats hold the same fields (see docs/file-format.md):

    format      "attnviz-weights"          optional on load, always written
    version     1                          optional on load, always written
    vocab       list of words              required
    embeddings  (vocab, d_model)           required
    W_q, W_k    (n_heads, d_model, d_k)    required; 2-D means one head
    W_v         (n_heads, d_model, d_v)    required; 2-D means one head
    W_o         (n_heads*d_v, d_out)       optional (null/absent = no output projection)
    config      {scale, causal, ...}       optional; missing keys take defaults
    sentence    text                       optional, default ""

JSON is the canonical, hand-editable format. .npz stores each field as an
array (strings as 0-d unicode arrays, config as a JSON string) and is always
read with ``allow_pickle=False``. .safetensors stores the matrices as tensors
and every other field as a JSON string in the header metadata. Floats are
kept bit-exact in all three, so saving in one and loading from another loses
nothing.

Every failure, whatever the library underneath raised, becomes one
``AttnvizError`` whose text is a single line ``"<file name>: <what is wrong>"``.
The pattern is: each reader turns bytes into a dict of plain fields, translating
its own library's errors; ``_build`` checks the fields and makes the Document,
whose constructor checks shapes and finiteness; ``loads`` prefixes the file name.
"""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from attnviz.engine import atomic
from attnviz.engine.document import HEAD_MATRICES, MATRICES, Config, Document, as_heads, short_repr
from attnviz.engine.errors import AttnvizError, one_line
from attnviz.engine.tokenizer import check_text, tokenize

FORMATS = (".json", ".npz", ".safetensors")
MAX_FILE_BYTES = 512 * 1024**2
FORMAT_NAME = "attnviz-weights"
VERSION = 1

REQUIRED = ("vocab", "embeddings", "W_q", "W_k", "W_v")
KEYS = ("format", "version", "vocab", "embeddings", "W_q", "W_k", "W_v", "W_o", "config", "sentence")
STRING_KEYS = ("format", "version", "vocab", "config", "sentence")  # not matrices: metadata in .safetensors

# How a dtype kind reads in a message about a refused array.
_KIND_WORDS = {"b": "true/false", "c": "complex", "U": "text", "S": "bytes", "O": "Python object",
               "V": "structured", "M": "date", "m": "time-delta"}
_SAFETENSORS_REAL = {"F16", "F32", "F64", "I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64"}


# -----------------------------------------------------------------------------
# public API


def suffix_of(path: str | os.PathLike[str]) -> str:
    """The lower-case extension of ``path``, e.g. ``".npz"``; a name that is only an extension
    (``.json``) is taken as one, where ``Path.suffix`` sees a hidden file with none."""
    name = Path(path).name
    if name.startswith(".") and name.count(".") == 1:
        return name.lower()
    return Path(path).suffix.lower()


def load(path: str | os.PathLike[str]) -> Document:
    """Read a weights file, checking everything that can be checked before reading it."""
    path = Path(path)
    name = one_line(path.name or str(path))  # a newline in a file name must not break the message
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AttnvizError(f"{name}: no such file") from None
    except OSError as e:
        raise AttnvizError(one_line(f"{name}: cannot open ({_reason(e)})")) from None
    if stat.S_ISDIR(st.st_mode):
        raise AttnvizError(f"{name}: is a folder, not a weights file")
    if not stat.S_ISREG(st.st_mode):
        raise AttnvizError(f"{name}: is not a regular file")
    if not os.access(path, os.R_OK):
        raise AttnvizError(f"{name}: permission denied; the file is not readable")
    if st.st_size > MAX_FILE_BYTES:
        raise AttnvizError(f"{name}: the file is {_megabytes(st.st_size)}, over the {_megabytes(MAX_FILE_BYTES)} limit")
    suffix = suffix_of(path)
    if suffix not in FORMATS:
        raise AttnvizError(f"{name}: {_unknown_extension(suffix)}")
    return loads(_read(path, name), suffix, name)


def save(doc: Document, path: str | os.PathLike[str]) -> None:
    """Write ``doc`` to ``path`` in the format its extension names, atomically."""
    path = Path(path)
    name = one_line(path.name or str(path))  # a newline in a file name must not break the message
    try:
        data = dumps(doc, suffix_of(path))
    except AttnvizError as e:
        raise AttnvizError(one_line(f"{name}: {e}")) from None
    try:
        atomic.write_atomic(path, data)
    except OSError as e:
        raise AttnvizError(one_line(f"{name}: cannot save ({_reason(e)})")) from None


def dumps(doc: Document, suffix: str) -> bytes:
    """The bytes of ``doc`` in the format named by ``suffix`` (".json", ".npz", ".safetensors")."""
    writer = _WRITERS.get(suffix.lower())
    if writer is None:
        raise AttnvizError(_unknown_extension(suffix))
    return writer(doc)


def loads(data: bytes, suffix: str, name: str) -> Document:
    """Parse ``data`` as a ``suffix`` file; ``name`` is only used in error messages."""
    reader = _READERS.get(suffix.lower())
    if reader is None:
        raise AttnvizError(one_line(f"{name}: {_unknown_extension(suffix)}"))
    try:
        if not data:
            raise AttnvizError("the file is empty")
        if len(data) > MAX_FILE_BYTES:
            raise AttnvizError(f"the data is {_megabytes(len(data))}, over the {_megabytes(MAX_FILE_BYTES)} limit")
        return _build(reader(bytes(data)))
    except AttnvizError as e:
        raise AttnvizError(one_line(f"{name}: {e}")) from None
    except RecursionError:
        raise AttnvizError(f"{name}: the data is nested too deeply") from None
    except MemoryError:
        raise AttnvizError(f"{name}: not enough memory to read this file; is it damaged?") from None
    except Exception as e:
        # Last resort, so that no library's own exception type reaches the user.
        raise AttnvizError(one_line(f"{name}: cannot read this {suffix} file ({type(e).__name__}: {e})")) from e


# -----------------------------------------------------------------------------
# shared checks: plain fields -> Document


def _build(fields: dict[str, Any]) -> Document:
    """Check the plain fields a reader produced and make the Document."""
    _check_format(fields.get("format", FORMAT_NAME))
    _check_version(fields.get("version", VERSION))
    for key in fields:
        if key not in KEYS:
            raise AttnvizError(f"unknown key {key!r}; expected {', '.join(KEYS)}")
    for key in REQUIRED:
        if key not in fields:
            raise AttnvizError(f"missing key {key!r}")
        if fields[key] is None:
            raise AttnvizError(f"{key} is null but is required")
    vocab = _vocab(fields["vocab"])
    arrays = {key: _matrix(fields[key], key) for key in MATRICES if fields.get(key) is not None}
    for key in HEAD_MATRICES:
        arrays[key] = as_heads(arrays[key], key)
    config = _config(fields.get("config"))
    sentence = fields.get("sentence", "")
    if not isinstance(sentence, str):
        raise AttnvizError(f"sentence must be a string, got {_json_type(sentence)}")
    return Document(vocab=vocab, config=config, sentence=sentence, **arrays)


def _check_format(value: Any) -> None:
    if value != FORMAT_NAME:
        raise AttnvizError(f"format is {value!r}, expected {FORMAT_NAME!r}; this is not an attnviz weights file")


def _check_version(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AttnvizError(f"version must be the integer {VERSION}, got {_describe(value)}")
    if value != VERSION:
        raise AttnvizError(f"version {value} is not supported; this attnviz reads version {VERSION}")


def _vocab(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise AttnvizError(f"vocab must be a list of words, got {_json_type(value)}")
    for i, word in enumerate(value):
        if not isinstance(word, str):
            raise AttnvizError(f"vocab[{i}] must be a string, got {_json_type(word)} {word!r}")
        _check_one_token(word, i)
    return tuple(value)


def _check_one_token(word: str, i: int) -> None:
    """A word a sentence reads as two tokens ("new york", "go,") could never be looked up. Checked as a
    file is read, once per word (a document is validated at every edit: a vocabulary can be long)."""
    check_text(word, f"vocab[{i}]")  # (tokenizing a lone surrogate would fail less clearly)
    parts = tokenize(word)
    if parts != [word] and word.strip() == word and word:  # (empty or spaced words get their own message)
        shown = ", ".join(short_repr(part, 20) for part in parts[:3]) + (", …" if len(parts) > 3 else "")
        raise AttnvizError(f"vocab[{i}] {short_repr(word)} is not one token (a sentence reads it as {shown}), "
                           "so no sentence could use it")


def _config(value: Any) -> Config:
    if value is None:
        return Config()
    try:
        return Config.from_dict(value)
    except AttnvizError:
        raise
    except (TypeError, ValueError, OverflowError) as e:  # e.g. a 400-digit temperature
        raise AttnvizError(f"config is invalid: {e}") from None


def _matrix(value: Any, key: str) -> np.ndarray:
    """A float64 array from a JSON nested list or a stored array; anything not a real number is refused."""
    if isinstance(value, np.ndarray):
        return _real_array(value, key)
    return _json_array(value, key)


def _real_array(a: np.ndarray, key: str) -> np.ndarray:
    kind = a.dtype.kind
    if kind in "iu" or (kind == "f" and a.dtype.itemsize in (2, 4, 8)):
        return a.astype(np.float64)
    what = _KIND_WORDS.get(kind, "unsupported")
    raise AttnvizError(f"{key} holds {what} values (dtype {a.dtype}); expected real numbers (floats or integers)")


def _json_array(value: Any, key: str) -> np.ndarray:
    # dtype=object keeps bools, strings and nulls visible (a float array would turn true into 1.0)
    # and makes ragged lists an array of lists rather than an error without a key.
    a = np.array(value, dtype=object)
    is_number = np.asarray(np.frompyfunc(lambda x: type(x) in (int, float), 1, 1)(a), dtype=bool)
    if not is_number.all():
        where = tuple(int(i) for i in np.argwhere(~is_number)[0])
        bad = a[where]
        if isinstance(bad, list):
            raise AttnvizError(f"{key} is not a rectangular array of numbers (ragged rows or nested too deeply)")
        at = f"{key}{list(where)}" if where else key
        raise AttnvizError(f"{at} is {_describe(bad)}; every entry must be a number")
    try:
        return a.astype(np.float64)
    except OverflowError:
        raise AttnvizError(f"{key} holds an integer too large for a float") from None


# -----------------------------------------------------------------------------
# JSON


def _fields(doc: Document) -> dict[str, Any]:
    """The document as plain JSON-ready values, in file order."""
    return {
        "format": FORMAT_NAME,
        "version": VERSION,
        "vocab": list(doc.vocab),
        **{key: getattr(doc, key) for key in MATRICES},
        "config": doc.config.to_dict(),
        "sentence": doc.sentence,
    }


def _dumps_json(doc: Document) -> bytes:
    lines = []
    for key, value in _fields(doc).items():
        text = _json_matrix(value, 1) if isinstance(value, np.ndarray) else _json_value(value)
        lines.append(f" {_json_value(key)}: {text}")
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")


def _json_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _json_matrix(a: np.ndarray, indent: int) -> str:
    """Nested lists with one matrix row per line, so a hand edit touches one line.

    Python's float repr is the shortest text that reads back to the same bits.
    """
    if a.ndim == 1:
        return "[" + ", ".join(repr(float(x)) for x in a) + "]"
    if a.shape[0] == 0:
        return "[]"
    pad = " " * (indent + 1)
    rows = ",\n".join(pad + _json_matrix(row, indent + 1) for row in a)
    return "[\n" + rows + "\n" + " " * indent + "]"


def _loads_json(data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8-sig")  # tolerate the BOM some editors add
    except UnicodeDecodeError as e:
        raise AttnvizError(f"not UTF-8 text (byte {data[e.start]:#04x} at offset {e.start})") from None
    top = _parse_json(text, "the file")
    if not isinstance(top, dict):
        raise AttnvizError(f"the top level must be a JSON object {{...}}, got {_json_type(top)}")
    return top


def _parse_json(text: str, what: str) -> Any:
    """Strict JSON: no NaN/Infinity, no duplicate keys, deep nesting reported."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_no_duplicates)
    except AttnvizError:  # from our hooks; it is a ValueError too, so it must come first
        raise
    except json.JSONDecodeError as e:
        raise AttnvizError(f"{what} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise AttnvizError(f"{what} is nested too deeply") from None
    except ValueError as e:
        if "integer string conversion" in str(e):  # Python's own words name its setting, not the file
            raise AttnvizError(f"{what} has a whole number of more than 4300 digits") from None
        raise AttnvizError(f"{what} is not valid JSON: {e}") from None


def _refuse_constant(name: str) -> Any:
    raise AttnvizError(f"the file contains {name}; every value must be a finite number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise AttnvizError(f"key {key!r} appears twice")
        result[key] = value
    return result


# -----------------------------------------------------------------------------
# .npz


def _dumps_npz(doc: Document) -> bytes:
    # NumPy unicode arrays drop trailing NUL characters, so such text would not round-trip.
    for where, text in [*((f"vocab[{i}]", w) for i, w in enumerate(doc.vocab)), ("sentence", doc.sentence)]:
        if text.endswith("\x00"):
            raise AttnvizError(f"{where} ends with a NUL character, which .npz cannot store; save as .json")
    arrays = {
        "format": np.array(FORMAT_NAME),
        "version": np.array(str(VERSION)),
        "vocab": np.array(doc.vocab, dtype=str).reshape(len(doc.vocab)),
        **{key: getattr(doc, key) for key in MATRICES if getattr(doc, key) is not None},
        "config": np.array(json.dumps(doc.config.to_dict())),
        "sentence": np.array(doc.sentence, dtype=str),
    }
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _loads_npz(data: bytes) -> dict[str, Any]:
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise AttnvizError("not an .npz file (it does not start like a zip archive)")
    _check_directory(data)
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise AttnvizError(one_line(f"damaged .npz file ({e})")) from None
    with npz:
        return {key: _npz_field(key, _npz_member(npz, key)) for key in npz.files}


def _check_directory(data: bytes) -> None:
    """What the zip directory tells before anything is unpacked: no member twice (NumPy would
    quietly take the last, where JSON and safetensors refuse a key twice), and the size unpacked
    (a small compressed archive can unpack to gigabytes)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise AttnvizError(one_line(f"damaged .npz file ({e})")) from None
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            raise AttnvizError(f"{info.filename.removesuffix('.npy')!r} appears twice in the archive")
        seen.add(info.filename)
    total = sum(info.file_size for info in infos)
    if total > MAX_FILE_BYTES:
        raise AttnvizError(f"the archive unpacks to {_megabytes(total)}, over the {_megabytes(MAX_FILE_BYTES)} limit")


def _npz_member(npz: Any, key: str) -> np.ndarray:
    try:
        value = npz[key]
    except ValueError as e:
        if "pickle" in str(e):
            raise AttnvizError(f"{key} is a pickled object array; attnviz never loads pickles") from None
        raise AttnvizError(one_line(f"{key} is damaged ({e})")) from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise AttnvizError(one_line(f"{key} is damaged ({e})")) from None
    if not isinstance(value, np.ndarray):  # a zip member that is not a .npy array
        raise AttnvizError(f"{key} is not a NumPy array")
    return value


def _npz_field(key: str, a: np.ndarray) -> Any:
    """Strings come back from 0-d unicode arrays; matrices stay arrays for ``_build``."""
    if key == "vocab":
        if a.dtype.kind != "U" or a.ndim != 1:
            raise AttnvizError(f"vocab must be a 1-D array of strings, got dtype {a.dtype} with shape {a.shape}")
        return [str(w) for w in a]
    if key in ("format", "version", "sentence", "config"):
        if a.dtype.kind not in "Ui" or a.ndim != 0:
            raise AttnvizError(f"{key} must be a single string (0-d array), got dtype {a.dtype} with shape {a.shape}")
        value = a.item()
        if key == "config":
            if not isinstance(value, str):
                raise AttnvizError(f"config must be JSON text (a 0-d string array), got the number {value!r}")
            return _parse_json(value, "config")
        if key == "version" and isinstance(value, str):
            return _npz_version(value)
        return value
    return a


def _npz_version(text: str) -> int:
    """.npz keeps the version as text, where JSON has a number."""
    if not text.isdecimal():
        raise AttnvizError(f"version must be the text {str(VERSION)!r}, got {short_repr(text)}")
    if len(text) > 20:  # no int() of thousands of digits (Python refuses past 4300)
        raise AttnvizError(f"version {short_repr(text)} is not supported; this attnviz reads version {VERSION}")
    return int(text)


# -----------------------------------------------------------------------------
# .safetensors


def _dumps_safetensors(doc: Document) -> bytes:
    from safetensors.numpy import save as st_save

    fields = _fields(doc)
    tensors = {key: np.ascontiguousarray(fields[key]) for key in MATRICES if fields[key] is not None}
    metadata = {key: json.dumps(fields[key], ensure_ascii=False) for key in STRING_KEYS}
    return st_save(tensors, metadata=metadata)


def _loads_safetensors(data: bytes) -> dict[str, Any]:
    from safetensors.numpy import load as st_load

    header = _safetensors_header(data)
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise AttnvizError("the header's __metadata__ must be an object")
    fields: dict[str, Any] = {}
    for key, text in metadata.items():
        if not isinstance(text, str):
            raise AttnvizError(f"metadata {key!r} must be a string holding JSON")
        fields[key] = _parse_json(text, f"metadata {key!r}")
    for key, info in header.items():
        dtype = info.get("dtype") if isinstance(info, dict) else None
        if key in fields:
            raise AttnvizError(f"{key} is both a tensor and a metadata entry")
        if dtype not in _SAFETENSORS_REAL:
            raise AttnvizError(f"{key} has dtype {dtype}; expected real numbers (F16/F32/F64 or integers)")
    try:
        tensors = st_load(data)
    except Exception as e:  # safetensors raises its own SafetensorError and others
        raise AttnvizError(one_line(f"damaged .safetensors file ({e})")) from None
    fields.update(tensors)
    return fields


def _safetensors_header(data: bytes) -> dict[str, Any]:
    """Check the declared header length against the data before parsing anything."""
    if len(data) < 8:
        raise AttnvizError(f"too short for a .safetensors file ({len(data)} bytes)")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise AttnvizError(f"the header claims {n} bytes but the file has only {len(data) - 8} after it")
    try:
        text = data[8 : 8 + n].decode("utf-8")
    except UnicodeDecodeError:
        raise AttnvizError("not a .safetensors file (its header is not UTF-8 text)") from None
    header = _parse_json(text, "the .safetensors header")
    if not isinstance(header, dict):
        raise AttnvizError("not a .safetensors file (its header is not a JSON object)")
    return header


# -----------------------------------------------------------------------------
# helpers

_READERS: dict[str, Callable[[bytes], dict[str, Any]]] = {
    ".json": _loads_json,
    ".npz": _loads_npz,
    ".safetensors": _loads_safetensors,
}
_WRITERS: dict[str, Callable[[Document], bytes]] = {
    ".json": _dumps_json,
    ".npz": _dumps_npz,
    ".safetensors": _dumps_safetensors,
}


def _read(path: Path, name: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # +1: notice a file that grew since stat()
    except PermissionError:
        raise AttnvizError(f"{name}: permission denied; the file is not readable") from None
    except OSError as e:
        raise AttnvizError(one_line(f"{name}: cannot read ({_reason(e)})")) from None
    if len(data) > MAX_FILE_BYTES:
        raise AttnvizError(f"{name}: the file is over the {_megabytes(MAX_FILE_BYTES)} limit")
    return data


def _unknown_extension(suffix: str) -> str:
    shown = repr(suffix) if suffix else "no extension"
    return f"unknown file type {shown}; use {', '.join(FORMATS[:-1])} or {FORMATS[-1]}"


def _json_type(value: Any) -> str:
    """The JSON word for a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _describe(value: Any, limit: int = 40) -> str:
    """``null``, ``true``, ``the string "abc"``, ``an object {...}``: a value as a JSON reader sees it."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"the string {text}" if isinstance(value, str) else f"{_json_type(value)} {text}"


def _megabytes(n: int) -> str:
    return f"{n / 1024**2:.1f} MB" if n >= 1024**2 else f"{n} bytes"


def _reason(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__

