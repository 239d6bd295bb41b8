"""The attnviz engine: tokenizer, embeddings, positional encoding, attention, files.

Pure NumPy. Nothing in this package imports Qt, so it can be used from
scripts and notebooks; ``tests/engine/test_no_qt.py`` enforces that.
"""

from attnviz.engine.attention import AttentionResult, causal_mask, forward, softmax
from attnviz.engine.document import Config, Document
from attnviz.engine.errors import AttnvizError
from attnviz.engine.positional import positional_encoding
from attnviz.engine.tokenizer import tokenize

__all__ = [
    "AttentionResult",
    "AttnvizError",
    "Config",
    "Document",
    "causal_mask",
    "forward",
    "positional_encoding",
    "softmax",
    "tokenize",
]
