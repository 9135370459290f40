"""One way to refuse: every domain raises ``Refused`` for a request it will not carry out, and one handler
(app/errors.py) turns it into the JSON error of the API or an error page; commands turn it into their error
(app/cli). Flask-free, so that services, workers and commands raise and catch the same type."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.scoping import scoped_session


class Refused(Exception):
    """A request the platform will not carry out: a message people can act on and the HTTP status that says why.

    ``problems`` lists every reason when there are several (a bundle, a dataset to publish), and the message
    joins them; ``retry_after`` (seconds) and ``location`` (the URL of what already exists) become the
    ``Retry-After`` and ``Location`` headers; ``field`` names the form field at fault, for pages that show it;
    ``code`` is the API error's code when a client must tell this refusal from others of its status.
    """

    def __init__(
        self,
        message: str | Sequence[str],
        status: int = 400,
        *,
        retry_after: int | None = None,
        location: str | None = None,
        field: str | None = None,
        code: str | None = None,
    ) -> None:
        self.problems = [message] if isinstance(message, str) else list(message)
        self.message = "; ".join(self.problems)
        super().__init__(self.message)
        self.status, self.retry_after, self.location, self.field = status, retry_after, location, field
        self.code = code

    @property
    def headers(self) -> dict[str, str]:
        """The HTTP headers the refusal carries."""
        headers = {}
        if self.retry_after:
            headers["Retry-After"] = str(self.retry_after)
        if self.location:
            headers["Location"] = self.location
        return headers


@contextmanager
def refused_if_taken(session: Session | scoped_session, message: str) -> Iterator[None]:
    """A write the schema refuses as a duplicate (someone else took the same name or place a moment before)
    becomes ``Refused(message, 409)``, with the session rolled back."""
    try:
        yield
    except IntegrityError:
        session.rollback()
        raise Refused(message, 409) from None
