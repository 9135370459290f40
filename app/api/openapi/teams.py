"""The teams part of the OpenAPI document: creating, joining, reading, leaving and merging teams."""

from __future__ import annotations

from app.api.openapi.common import NULLABLE_INTEGER, NULLABLE_TIME, SLUG, json_body, json_response, op, ref
from app.api.schemas import TeamBody, TeamJoinBody, TeamLeaderBody, TeamMergeBody

TEAM_ID = {"name": "team_id", "in": "path", "required": True, "schema": {"type": "integer"}}
TIME = {"type": "string", "format": "date-time"}

SCHEMAS = {
    "TeamMember": {
        "type": "object",
        "required": ["username", "joined_at", "leader"],
        "properties": {"username": {"type": "string"}, "joined_at": TIME, "leader": {"type": "boolean"}},
    },
    "TeamMergeRequest": {
        "type": "object",
        "properties": {
            "team": {"type": "integer", "description": "the team that would be merged away"},
            "team_name": {"type": "string"},
            "into": {"type": "integer", "description": "the team that stays"},
            "into_name": {"type": "string"},
            "asked_by": {"type": "integer", "description": "the team whose leader asked; the other leader accepts"},
            "created_at": TIME,
        },
    },
    "Team": {
        "type": "object",
        "required": ["id", "name", "competition", "leader", "members", "submissions"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "competition": {"type": "string"},
            "leader": {"type": "string"},
            "members": {"type": "array", "items": ref("TeamMember")},
            "submissions": {"type": "integer", "description": "counted submissions (failed ones are refunded)"},
            "created_at": TIME,
            "invite_token": {"type": ["string", "null"], "description": "members only; null for anyone else"},
            "merge_requests": {
                "oneOf": [{"type": "array", "items": ref("TeamMergeRequest")}, {"type": "null"}],
                "description": "members only",
            },
        },
    },
}


def paths() -> dict:
    """The teams' routes."""
    team = json_response(ref("Team"))
    return {
        "/competitions/{slug}/teams": {
            "parameters": [SLUG],
            "post": op(
                "Create a team, the caller its leader (participants not yet in a team); its invite token lets "
                "others join",
                {"201": json_response(ref("Team"), "Created")},
                errors=("400", "401", "403", "404", "409"),
                requestBody=json_body(TeamBody),
            ),
            "get": op(
                "The competition's teams and their members; `mine` is the caller's team",
                {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "teams": {"type": "array", "items": ref("Team")},
                                "mine": NULLABLE_INTEGER,
                                "max_size": {"type": "integer", "description": "1: everyone competes alone"},
                                "merge_deadline": {**NULLABLE_TIME, "description": "null: until the close"},
                            },
                        }
                    )
                },
                errors=("404",),
                public=True,
            ),
        },
        "/competitions/{slug}/teams/join": {
            "parameters": [SLUG],
            "post": op(
                "Join a team by its invite token. The caller's own submissions count for the team from then on, "
                "refused as a merge would be; 409 when the team is full or the caller's team has submissions",
                {"200": team},
                errors=("400", "401", "403", "404", "409"),
                requestBody=json_body(TeamJoinBody),
            ),
        },
        "/teams/{team_id}": {
            "parameters": [TEAM_ID],
            "get": op(
                "A team; its invite token and merge requests for its members",
                {"200": team},
                errors=("404",),
                public=True,
            ),
        },
        "/teams/{team_id}/leave": {
            "parameters": [TEAM_ID],
            "post": op(
                "Leave the team: while it has not submitted, or before the merge deadline. Its submissions stay "
                "with it; the lead passes to the member who joined first; the last member dissolves a team that "
                "has not submitted",
                {
                    "200": json_response(
                        {"type": "object", "properties": {"left": {"type": "boolean"}, "team": {"type": "integer"}}}
                    )
                },
                errors=("401", "403", "404", "409"),
            ),
        },
        "/teams/{team_id}/leader": {
            "parameters": [TEAM_ID],
            "post": op(
                "The leader hands the lead to another member",
                {"200": team},
                errors=("400", "401", "403", "404", "409"),
                requestBody=json_body(TeamLeaderBody),
            ),
        },
        "/teams/{team_id}/merge": {
            "parameters": [TEAM_ID],
            "post": op(
                "Merge team team_id into team `into`, called by both leaders: the first call records the request "
                "(202), the other leader's performs it (200). Refused after the merge deadline, above the team "
                "size, or when the merged team's counted submissions exceed daily_limit x days since the opening "
                "(elapsed hours / 24 rounded up, at least 1)",
                {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {"status": {"type": "string", "enum": ["merged"]}, "team": ref("Team")},
                        },
                        "Merged: the team that stayed",
                    ),
                    "202": json_response(
                        {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string", "enum": ["requested"]},
                                "team": {"type": "integer"},
                                "into": {"type": "integer"},
                            },
                        },
                        "Recorded: the other leader's call merges",
                    ),
                },
                errors=("400", "401", "403", "404", "409"),
                requestBody=json_body(TeamMergeBody),
            ),
        },
    }
