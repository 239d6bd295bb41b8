"""How a person names the document's cells: as the tables' headers do, counting from 1.

Undo texts (model) and the tables' headers, refusals and tooltips (gui) read
the same names from here: W_q[x₃, q₂] (head 2), W_o[h1·v₂, y₁], embedding['go', d₂].
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attnviz.model.document_model import DocumentModel

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
# What a column of each matrix stands for: the component of q, k, v, the output y, or the model's d.
COLUMN_PREFIX = {"W_q": "q", "W_k": "k", "W_v": "v", "W_o": "y", "embeddings": "d"}


def component(index: int) -> str:
    """The 1-based subscript naming component ``index`` (0-based) of a vector: 0 → ₁."""
    return str(index + 1).translate(_SUBSCRIPT)


def quoted(word: str) -> str:
    """``word`` quoted as ``repr`` quotes it, but with its format characters as they are written.

    A zero-width non-joiner or joiner is part of how Persian and Indic words are
    spelt, and a soft hyphen is drawn as nothing; ``repr`` would show them as
    ``\\u200c`` escapes in a title or an undo text.
    """
    if word.isprintable():
        return repr(word)
    quote = '"' if "'" in word and '"' not in word else "'"
    return quote + "".join(
        "\\" + c if c in ("\\", quote)
        else c if c.isprintable() or unicodedata.category(c) == "Cf"
        else repr(c)[1:-1]
        for c in word
    ) + quote


def embedding_name(word: str, col: int) -> str:
    """A vocabulary word's embedding cell: embedding['go', d₂]."""
    return f"embedding[{quoted(word)}, d{component(col)}]"


def cell_name(model: DocumentModel, name: str, index: tuple[int, ...]) -> str:
    """The cell at ``index`` (0-based, as the document holds it) as a person sees it: W_q[x₃, q₂] (head 2),
    W_o[h1·v₂, y₁], embedding['go', d₂] (an embedding row is a vocabulary word's)."""
    *head, row, col = index
    column = f"{COLUMN_PREFIX[name]}{component(col)}"
    if name == "embeddings":
        return embedding_name(model._vocab[row], col)
    if name == "W_o":
        return f"W_o[h{row // model.d_v + 1}·v{component(row % model.d_v)}, {column}]"
    where = f" (head {head[0] + 1})" if head else ""
    return f"{name}[x{component(row)}, {column}]{where}"
