"""The package's exceptions, and the wording shared by every message about rows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

MAX_LISTED = 10


class ValidationError(ValueError):
    """A submission or solution that cannot be scored; the message says why, and which ids."""


class UnknownMetricError(KeyError):
    """A metric name that is not in the registry; the message lists the known names."""

    def __str__(self) -> str:
        # KeyError would print the repr of its argument, quotes and all.
        return str(self.args[0]) if self.args else ""


def listing(ids: Sequence | pa.Array | np.ndarray, what: str) -> str:
    """'3 ids are duplicated: a, b, c', with at most the first ten ids and the count of the others."""
    count = len(ids)
    first = ids[:MAX_LISTED]
    # Only the ten shown become Python objects: a file may have a million bad rows.
    first = first.to_pylist() if isinstance(first, pa.Array) else list(np.asarray(first).tolist())
    shown = ", ".join(str(i) for i in first)
    more = f" (and {count - MAX_LISTED} more)" if count > MAX_LISTED else ""
    noun = "id is" if count == 1 else "ids are"
    return f"{count} {noun} {what}: {shown}{more}"
