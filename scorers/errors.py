"""The package's exceptions, and the wording shared by every message about rows and columns.

Messages quote what they found, but never without bound: at most ten ids or column names, each cut to
a readable length, so a file of a million bad rows or a hundred thousand columns gets a short message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa

MAX_LISTED = 10
MAX_QUOTED = 100  # characters of one id, column name or cell quoted in a message
MAX_DETAIL = 1000  # characters of a reader's own explanation quoted in a message


class ValidationError(ValueError):
    """A submission or solution that cannot be scored; the message says why, and which ids."""


class UnknownMetricError(KeyError):
    """A metric name that is not in the registry; the message lists the known names."""

    def __str__(self) -> str:
        # KeyError would print the repr of its argument, quotes and all.
        return str(self.args[0]) if self.args else ""


def clip(text: str, limit: int = MAX_DETAIL) -> str:
    """The text, cut to limit characters with an ellipsis when longer."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def names(values: Iterable[str]) -> str:
    """ "'a', 'b' (and 3 more)": the first ten names quoted, each cut to a readable length."""
    values = list(values)
    shown = ", ".join(repr(clip(str(value), MAX_QUOTED)) for value in values[:MAX_LISTED])
    more = f" (and {len(values) - MAX_LISTED:,} more)" if len(values) > MAX_LISTED else ""
    return shown + more


def listing(ids: Sequence | pa.Array | np.ndarray, what: str) -> str:
    """'3 ids are duplicated: a, b, c', with at most the first ten ids and the count of the others."""
    count = len(ids)
    first = ids[:MAX_LISTED]
    # Only the ten shown become Python objects: a file may have a million bad rows.
    first = first.to_pylist() if isinstance(first, pa.Array) else list(np.asarray(first).tolist())
    shown = ", ".join(clip(str(i), MAX_QUOTED) for i in first)
    more = f" (and {count - MAX_LISTED} more)" if count > MAX_LISTED else ""
    noun = "id is" if count == 1 else "ids are"
    return f"{count} {noun} {what}: {shown}{more}"
