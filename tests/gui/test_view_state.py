"""The selected token steps as the keyboard moves it: one at a time, stopping at either end."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from attnviz.engine.examples import load_example
from attnviz.gui.view_state import ViewState
from attnviz.model import DocumentModel


def view_on(words: int) -> ViewState:
    model = DocumentModel(load_example("lets-go"))
    model.set_sentence(" ".join(["go"] * words))
    model.flush()
    return ViewState(model)


@settings(max_examples=60, deadline=None)
@given(
    words=st.integers(0, 12),
    start=st.integers(-1, 11),
    steps=st.lists(st.one_of(st.integers(-3, 3), st.sampled_from([-(1 << 30), 1 << 30])), max_size=6),
)
@example(words=5, start=-1, steps=[2])  # none selected: the first, however far the step
@example(words=5, start=-1, steps=[-1])
def test_a_step_moves_the_selected_token_and_stops_at_either_end(qapp, words, start, steps):
    view = view_on(words)
    view.set_token(start)
    expected = view.token
    for step in steps:
        view.step_token(step)
        if words:  # no token selected yet: a step either way selects the first
            expected = 0 if expected < 0 else min(max(expected + step, 0), words - 1)
        assert view.token == expected
