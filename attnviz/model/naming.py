"""How a person names the document's cells: as the tables' headers do, counting from 1.

Undo texts (model) and the tables' headers, refusals and tooltips (gui) read
the same names from here: W_q[x₃, q₂] (head 2), W_o[h1·v₂, y₁], embedding['go', d₂].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attnviz.model.document_model import DocumentModel

_JOINERS = ("\u200c", "\u200d")  # zero-width non-joiner, joiner
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
# What a column of each matrix stands for: the component of q, k, v, the output y, or the model's d.
COLUMN_PREFIX = {"W_q": "q", "W_k": "k", "W_v": "v", "W_o": "y", "embeddings": "d"}


def component(index: int) -> str:
    """The 1-based subscript naming component ``index`` (0-based) of a vector: 0 → ₁."""
    return str(index + 1).translate(_SUBSCRIPT)


def quoted(word: str) -> str:
    """``word`` quoted as ``repr`` quotes it, but with a joiner between two characters left as written.

    A zero-width joiner or non-joiner between two visible characters is part of
    how the token is drawn (``👨‍👩‍👧`` is three emoji and two joiners); ``repr``
    would show ``'👨\\u200d👩\\u200d👧'`` in a title or an undo text. Every other
    character ``repr`` escapes stays escaped: a joiner alone or a direction
    control would be invisible, or would reorder the text around it.
    """
    if word.isprintable():
        return repr(word)
    quote = '"' if "'" in word and '"' not in word else "'"
    shown = []
    for i, c in enumerate(word):
        if c in ("\\", quote):
            shown.append("\\" + c)
        elif c.isprintable() or (c in _JOINERS and 0 < i < len(word) - 1
                                 and word[i - 1].isprintable() and word[i + 1].isprintable()):
            shown.append(c)
        else:
            shown.append(repr(c)[1:-1])
    return quote + "".join(shown) + quote


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
