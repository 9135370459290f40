"""The one exception of the package: input that cannot be scored, with a message saying why."""

from __future__ import annotations

from collections.abc import Sequence

MAX_LISTED = 10


class ValidationError(ValueError):
    """A submission or solution that cannot be scored; the message names the problem and the ids."""


def listing(ids: Sequence, what: str) -> str:
    """'3 ids are duplicated: a, b, c' with at most the first ten ids."""
    count = len(ids)
    shown = ", ".join(str(i) for i in list(ids)[:MAX_LISTED])
    more = f" (and {count - MAX_LISTED} more)" if count > MAX_LISTED else ""
    noun = "id is" if count == 1 else "ids are"
    return f"{count} {noun} {what}: {shown}{more}"
