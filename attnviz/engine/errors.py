"""The one error type the engine raises for bad input."""


class AttnvizError(ValueError):
    """Bad input: a file, a value, a shape or an option.

    ``str(err)`` is a single line meant for a person, naming what is wrong
    (and, for files, the file and the key). Callers show it as it is.
    """


def one_line(text: str) -> str:
    """Messages are shown in a status line: fold any newline a library put in."""
    return " ".join(text.split())
