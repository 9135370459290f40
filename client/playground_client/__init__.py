"""Client of the DQM Playground API: ``Client(url, token)`` and the ``playground`` command."""

from playground_client.api import ApiError, Client

__all__ = ["ApiError", "Client"]
