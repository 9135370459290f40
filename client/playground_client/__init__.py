"""Client of the DQM Playground API: ``Client(url, token)`` and the ``playground`` command."""

from playground_client.api import Client
from playground_client.connection import ApiError
from playground_client.models import Competition, Export, LeaderboardRow, PublicFile, Quota, Submission, Team

__all__ = ["ApiError", "Client", "Competition", "Export", "LeaderboardRow", "PublicFile", "Quota", "Submission", "Team"]
