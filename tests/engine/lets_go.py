"""The two-word "Let's go" document, spelled out for the file-format tests.

It matches the bundled lets-go example, but is written here so that a change
to the example file cannot quietly change what these tests read and write.
"""

from attnviz.engine.document import Document

LETS_GO = Document(
    vocab=("let's", "go"),
    embeddings=[[1.87, 0.09], [-0.78, 0.27]],
    W_q=[[[0.54, -0.17], [0.32, 0.71]]],
    W_k=[[[0.63, 0.24], [-0.41, 0.58]]],
    W_v=[[[0.85, -0.22], [0.14, 0.96]]],
    sentence="Let's go",
)
