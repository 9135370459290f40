"""The JSON bodies the API reads: every field with its type and range, checked before a service sees the body.

A schema keeps out what no rule is written for (a list where a run number goes, a number no database column
holds, an object where a comment goes) with a 400 naming the field. The services keep their rules and the
messages that explain them (which statuses, which checklists, which ranges fit the run), so values a rule
decides on are only typed here. The OpenAPI document describes each body from these same classes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Optional, TypeVar

from flask import abort, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import models_json_schema
from pydantic_core import ErrorDetails
from werkzeug.datastructures import FileStorage

from app.models import RangeOrigin, Reco, Status
from app.models.certification import COMPONENTS, PROBLEM_CATEGORIES
from app.services.competitions import uploads

BIGINT = 2**63 - 1  # the largest value of a BigInteger column: run numbers, file sizes
INTEGER = 2**31 - 1  # the largest value of an Integer column: lumisection numbers
SHOWN_ERRORS = 5


def _one_of(values: Iterable[str]) -> Any:
    """For a string the service checks against these values: the document lists them."""
    return Field(json_schema_extra={"enum": list(values)})


RunNumber = Annotated[int, Field(ge=1, le=BIGINT)]
LumisectionNumber = Annotated[int, Field(ge=1, le=INTEGER)]
ByteCount = Annotated[int, Field(ge=1, le=BIGINT)]
SHA256 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="64 hexadecimal digits")]
StatusName = Annotated[str, _one_of(s.value for s in Status)]
RecoName = Annotated[str, _one_of(r.value for r in Reco)]
ComponentName = Annotated[str, _one_of(COMPONENTS)]
CategoryName = Annotated[str, _one_of(PROBLEM_CATEGORIES)]
TrackerMap = Annotated[str, _one_of(("exists", "missing"))]
Decision = Annotated[str, _one_of(("approve", "reject"))]
OriginName = Annotated[str, _one_of(o.value for o in RangeOrigin)]
RowId = Annotated[int, Field(ge=1, le=BIGINT)]
Threshold = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class Body(BaseModel):
    """A JSON object the API reads. Fields it does not know are ignored; the known ones are strictly typed
    (no number for a boolean, no string for a number)."""

    model_config = ConfigDict(strict=True, extra="ignore")
    hint: ClassVar[str] = ""  # what to send, added to the message of a refusal

    def as_given(self) -> dict[str, Any]:
        """The fields the caller sent, as plain data; absent fields stay absent."""
        return self.model_dump(exclude_unset=True)


class BadRangeBody(Body):
    """Lumisections first to last (inclusive) bad for the components (all three when absent)."""

    first: LumisectionNumber
    last: LumisectionNumber
    components: Optional[list[ComponentName]] = None
    comment: Optional[str] = None
    origin: Optional[OriginName] = Field(
        None, description="manual (the default), suggested, or suggested_edited: settled from the range's ends"
    )
    source_id: Optional[RowId] = Field(None, description="the task's source whose suggested range it started as")


class CertificationChange(Body):
    """A change of a certification: verdicts, bad ranges, reference run, checklists, comment (not the run)."""

    run_number: Optional[RunNumber] = None
    reco: Optional[RecoName] = None
    pixel: StatusName
    strip: StatusName
    tracking: StatusName
    pixel_lowstat: Optional[bool] = None
    strip_lowstat: Optional[bool] = None
    tracking_lowstat: Optional[bool] = None
    bad_lumisections: Optional[list[BadRangeBody]] = None
    reference_run: Optional[RunNumber] = None
    trackermap: Optional[TrackerMap] = None
    checklist: dict[str, bool] = Field(description="each checklist of the task, by name, ticked (true)")
    problem_categories: Optional[list[CategoryName]] = None
    bad_reason: Optional[str] = Field(None, description="one line for the reports, at most 300 characters")
    comment: Optional[str] = None


class CertificationBody(CertificationChange):
    """A certification of one run of the task."""

    run_number: RunNumber


class ReviewBody(Body):
    """A shift leader's decision; a rejection says in the comment what to fix."""

    hint = 'Send {"decision": "approve" or "reject", "comment": "..."}.'
    decision: Decision
    comment: Optional[str] = None


class JoinBody(Body):
    """Joining a competition means accepting its rules."""

    hint = 'Joining means accepting the rules: send {"accept_rules": true}.'
    accept_rules: bool = Field(json_schema_extra={"const": True})


class UploadPartBody(Body):
    """One part of a file to upload, in order, with its CRC32 for the store to check as it arrives."""

    size: ByteCount
    crc32: str = Field(description="4 bytes, big-endian, base64")


class UploadBody(Body):
    """A file about to be sent straight to the store. The checksums are optional."""

    hint = (
        'Announce the file as {"file_name": "...", "size": <bytes>, "description": "..."}. Checksums are optional: '
        '"sha256" as 64 hexadecimal digits, and "parts" as a list of {"size": <bytes>, "crc32": "<base64>"}, one '
        "per part, in order."
    )
    file_name: str
    size: ByteCount
    description: Optional[str] = None
    sha256: Optional[SHA256] = None
    parts: Optional[list[UploadPartBody]] = Field(
        None, description="every part but the last at least 5 MiB; their sizes add up to the file's"
    )

    def announcement(self) -> uploads.Announcement:
        """What the client says of its file before sending it."""
        return uploads.Announcement(
            sha256=self.sha256.lower() if self.sha256 else None,
            parts=tuple((part.size, part.crc32) for part in self.parts or ()),
        )


class ConfirmationBody(Body):
    """The size and SHA-256 of a file sent to the store, for the server to check before queueing it."""

    hint = 'Confirm the upload as {"size": <bytes>, "sha256": "<64 hexadecimal digits>"}.'
    size: ByteCount
    sha256: SHA256


class AttachSubmissionBody(Body):
    """A scored submission of a competition on a dataset published from the task, attached as a source."""

    hint = 'Send {"submission_id": N}, or a multipart form with a file, a name, a version and a threshold.'
    submission_id: RowId
    name: Optional[str] = Field(None, description="as shifters see it (default: the competition and submission)")
    version: Optional[str] = None
    threshold: Optional[Threshold] = None


class SourceChange(Body):
    """A source's activation, threshold, or both."""

    hint = 'Send {"active": true or false, "threshold": <a number in [0, 1]>}, either or both.'
    active: Optional[bool] = None
    threshold: Optional[Threshold] = None


class TeamBody(Body):
    """A new team of the competition, the caller its leader."""

    hint = 'Send {"name": "<the team\'s name, 1 to 100 characters>"}.'
    name: str = Field(min_length=1, max_length=100)


class TeamJoinBody(Body):
    """Joining a team by the invite token its members share."""

    hint = 'Send {"invite_token": "<the token of the team\'s invite link>"}.'
    invite_token: str = Field(min_length=1, max_length=64)


class TeamMergeBody(Body):
    """A leader's agreement to merge the team of the path into team ``into``."""

    hint = 'Send {"into": <the id of the team that stays>}.'
    into: RowId


class TeamLeaderBody(Body):
    """The member who leads the team from now on."""

    hint = 'Send {"username": "<a member of the team>"}.'
    username: str = Field(min_length=1, max_length=64)


SCHEMAS: tuple[type[Body], ...] = (
    CertificationBody,
    CertificationChange,
    ReviewBody,
    JoinBody,
    UploadBody,
    ConfirmationBody,
    AttachSubmissionBody,
    SourceChange,
    TeamBody,
    TeamJoinBody,
    TeamMergeBody,
    TeamLeaderBody,
)
B = TypeVar("B", bound=Body)


def parse_body(schema: type[B]) -> B:
    """The request's JSON body read by the schema, or a 400 naming each field that does not fit."""
    body = request.get_json(silent=True)
    hint = f" {schema.hint}" if schema.hint else ""
    if not isinstance(body, dict):
        abort(400, description=f"The body must be a JSON object, sent as application/json.{hint}")
    try:
        return schema.model_validate(body)
    except ValidationError as error:
        abort(400, description=f"{describe(error)}.{hint}")


def uploaded_file(missing: str) -> FileStorage:
    """The multipart form's field ``file``, or a 400 saying what to send (``missing``) when there is none."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(400, description=missing)
    return upload


def posted_predictions() -> dict[str, Any]:
    """A predictions form (multipart ``file`` and optional ``description``) as the services take it."""
    upload = uploaded_file("Send the predictions as a multipart form field named 'file'.")
    return {"stream": upload.stream, "file_name": upload.filename, "description": request.form.get("description", "")}


def describe(error: ValidationError) -> str:
    """The problems of a body, each naming its field, in the words of the API's other messages."""
    problems = [_problem(e) for e in error.errors(include_url=False)]
    more = len(problems) - SHOWN_ERRORS
    return "; ".join(problems[:SHOWN_ERRORS]) + (f" (and {more} more)" if more > 0 else "")


WORDS = {
    "missing": "is missing",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "list_type": "must be a list",
}


def _problem(error: ErrorDetails) -> str:
    field = _field(error["loc"])
    context = error.get("ctx") or {}
    if error["type"] == "missing":
        return f"{field} is missing"
    if error["type"] == "greater_than_equal":
        said = f"must be at least {context['ge']}"
    elif error["type"] == "less_than_equal":
        said = f"must be at most {context['le']}"
    elif error["type"] == "string_pattern_mismatch":
        said = f"must match {context['pattern']}"
    else:
        said = WORDS.get(error["type"]) or error["msg"][:1].lower() + error["msg"][1:]
    return f"{field} {said}, not {_shown(error['input'])}"


def _field(location: tuple) -> str:
    """('bad_lumisections', 0, 'first') as bad_lumisections[0].first."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":
            text += f".{part}" if text else str(part)
    return text or "the body"


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def openapi_schemas(ref_template: str) -> dict[str, dict]:
    """The JSON schema of every body (and of the objects inside them), by name, for the OpenAPI document."""
    _, document = models_json_schema([(schema, "validation") for schema in SCHEMAS], ref_template=ref_template)
    return {name: _without_titles(schema) for name, schema in document["$defs"].items()}


def _without_titles(schema: Any) -> Any:
    """The generated schema without the titles made from class and field names, which say nothing new."""
    if isinstance(schema, list):
        return [_without_titles(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned = {key: _without_titles(value) for key, value in schema.items() if key not in ("title", "properties")}
    if "properties" in schema:
        cleaned["properties"] = {name: _without_titles(value) for name, value in schema["properties"].items()}
    return cleaned
