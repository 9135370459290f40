"""A typed client of the DQM Playground REST API (``/api/v1``).

    from playground_client import Client
    client = Client("https://playground.example.org", token)
    client.download("ls-anomaly-2018", "data/")
    result = client.submit("ls-anomaly-2018", "predictions.csv", wait=True)
    print(result.status, result.public_score)

Every refusal raises ApiError carrying the server's own message. Calls answered
429 (rate limit) or 503 (unavailable) are retried after the server's
``Retry-After``, or with exponential back-off, a bounded number of times
(playground_client.connection sends the calls; this module says which).
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from playground_client import transfer
from playground_client.connection import ApiError, Connection, backoff, error_of
from playground_client.models import Competition, Export, LeaderboardRow, PublicFile, Submission, Team

DIRECT_UPLOADS_UNAVAILABLE = "direct_uploads_unavailable"
UPLOAD_THREADS = 8
DAMAGED_PART_RETRIES = 2  # a part whose checksum does not match on arrival is sent this many more times


class Client(Connection):
    """Calls the API of one platform as one user (anonymously without a token).

    ``progress`` shows progress bars on standard error: True, False, or None for
    "only on a terminal". ``max_retries`` and ``max_wait`` bound the waiting on 429
    and 503: a ``Retry-After`` longer than ``max_wait`` seconds (a used-up daily
    quota, say) is not waited for but raised.
    """

    # -- account and competitions ------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """The user the token belongs to: username and roles."""
        return self.request("GET", "/me").json()

    def competitions(self) -> list[Competition]:
        """Every competition, newest first."""
        return [Competition.from_json(c) for c in self.request("GET", "/competitions").json()["competitions"]]

    def competition(self, slug: str) -> Competition:
        """One competition, with whether the caller joined and their quota."""
        return Competition.from_json(self.request("GET", f"/competitions/{slug}").json())

    def join(self, slug: str) -> None:
        """Join the competition, accepting its rules (read them on its page first)."""
        self.request("POST", f"/competitions/{slug}/join", json={"accept_rules": True})

    def leaderboard(self, slug: str, private: bool = False) -> list[LeaderboardRow]:
        """The public leaderboard, or the private one once it is revealed."""
        board = "private" if private else "public"
        rows = self.request("GET", f"/competitions/{slug}/leaderboard", params={"board": board}).json()["rows"]
        return [LeaderboardRow.from_json(row) for row in rows]

    # -- teams -------------------------------------------------------------------------------------

    def create_team(self, slug: str, name: str) -> Team:
        """Create a team of the competition and lead it; its invite_token lets others join."""
        return Team.from_json(self.request("POST", f"/competitions/{slug}/teams", json={"name": name}).json())

    def join_team(self, slug: str, invite: str) -> Team:
        """Join a team by its invite token, or by the invite link its members share."""
        token = invite.rstrip("/").rsplit("/", 1)[-1]
        return Team.from_json(
            self.request("POST", f"/competitions/{slug}/teams/join", json={"invite_token": token}).json()
        )

    def my_team(self, slug: str) -> Team | None:
        """The caller's team in the competition, or None when they compete alone."""
        mine = self.request("GET", f"/competitions/{slug}/teams").json().get("mine")
        return None if mine is None else Team.from_json(self.request("GET", f"/teams/{mine}").json())

    def leave_team(self, slug: str) -> Team:
        """Leave one's team in the competition; returns the team left."""
        team = self.my_team(slug)
        if team is None:
            raise ApiError(404, "not_found", f"You are in no team of {slug}.")
        self.request("POST", f"/teams/{team.id}/leave")
        return team

    def merge_team(self, team_id: int, into: int) -> dict[str, Any]:
        """A leader's agreement to merge team_id into team into: "requested" first, "merged" once both agreed."""
        return self.request("POST", f"/teams/{team_id}/merge", json={"into": into}).json()

    # -- files -------------------------------------------------------------------------------------

    def files(self, slug: str) -> list[PublicFile]:
        """The competition's public files, with their size and sha256."""
        return [PublicFile.from_json(f) for f in self.request("GET", f"/competitions/{slug}/files").json()["files"]]

    def download(self, slug: str, directory: str | Path = ".", names: list[str] | None = None) -> list[Path]:
        """Download the public files into directory, resuming partial ones; each is checked against its sha256."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        listed = self.files(slug)
        if names is not None:
            unknown = set(names) - {f.name for f in listed}
            if unknown:
                raise ApiError(404, "not_found", f"The competition has no public file {sorted(unknown)[0]!r}.")
            listed = [f for f in listed if f.name in names]
        return [
            self._download_file(f"/competitions/{slug}/files/{f.name}", folder, f.name, f.size, f.sha256)
            for f in listed
        ]

    def _download_file(self, path: str, folder: Path, name: str, size: int | None, sha256: str) -> Path:
        """One file: skipped when already there, resumed from its .part file, verified, then moved in place."""
        final = folder / transfer.safe_name(name)
        partial = final.with_name(final.name + ".part")
        already_there = final.exists() and (size is None or final.stat().st_size == size)
        if already_there and transfer.file_sha256(final) == sha256:
            return final
        for attempt in range(self.max_retries + 1):
            try:
                self._fetch_into(path, partial, size, name)
                break
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
                if attempt == self.max_retries:
                    raise ApiError(0, "unreachable", f"the download of {name} broke off: {error}") from None
                self._wait(backoff(attempt), f"the download of {name} broke off")
        digest, got = transfer.hash_prefix(partial)
        if digest.hexdigest() != sha256 or (size is not None and got != size):
            partial.unlink(missing_ok=True)
            raise ApiError(
                0,
                "checksum_mismatch",
                f"{name}: the downloaded file's sha256 {digest.hexdigest()} is not the {sha256} the server lists; "
                "it was deleted, download it again.",
            )
        transfer.replace_atomically(partial, final)
        return final

    def _fetch_into(self, path: str, partial: Path, size: int | None, name: str) -> None:
        """Append to partial what it lacks, asking for the rest with an HTTP Range."""
        offset = partial.stat().st_size if partial.exists() else 0
        if size is not None and offset > size:
            partial.unlink()
            offset = 0
        if size is not None and offset == size:
            return
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        response = self.request("GET", path, headers=headers, stream=True, allow_redirects=False)
        if response.is_redirect:
            # A short-lived storage URL: it carries its own signature, so the API token must not go along.
            location = response.headers["Location"]
            response = self._send(self._store(), "GET", location, headers=headers, stream=True)
            if response.status_code >= 400:
                raise error_of(response)
        if response.status_code == 416:
            return  # nothing left to fetch: the partial file is complete
        if response.status_code != 206:
            offset = 0  # the server sent the whole file
        mode = "ab" if offset else "wb"
        with (
            response,
            partial.open(mode) as handle,
            transfer.progress_bar(size or 0, name, self.progress, initial=offset) as bar,
        ):
            for chunk in response.iter_content(transfer.CHUNK):
                handle.write(chunk)
                bar.update(len(chunk))

    # -- live predictions --------------------------------------------------------------------------

    def post_live(self, slug: str, path: str | Path, description: str | None = None) -> int:
        """Post live predictions for a live competition's current pending.csv; returns the live source's id."""
        file = Path(path)
        if not file.is_file():
            raise ApiError(0, "invalid_input", f"{file} is not a file.")
        return int(self._post_form(f"/competitions/{slug}/live", file, {"description": description or ""})["source_id"])

    def live_leaderboard(self, slug: str) -> list[dict[str, Any]]:
        """The live leaderboard's rows: rank, participant, source_id, score, runs, lumisections."""
        return list(self.request("GET", f"/competitions/{slug}/live-leaderboard").json()["rows"])

    # -- submissions -------------------------------------------------------------------------------

    def submit(
        self,
        slug: str,
        path: str | Path,
        description: str | None = None,
        wait: bool = False,
        timeout: float = 3600,
        baseline: bool = False,
    ) -> Submission:
        """Submit a prediction file; with wait, return only once it is scored or failed.

        On a platform storing files in S3 the file goes straight to the store through
        presigned URLs and the server checks its size and sha256; elsewhere it is posted
        to the API as a multipart form. Either way the submission is queued on return.
        An organiser's baseline (listed under its description, never ranked) is always posted as a form.
        """
        file = Path(path)
        if not file.is_file():
            raise ApiError(0, "invalid_input", f"{file} is not a file.")
        if baseline:
            accepted = self._submit_form(slug, file, description or "", {"baseline": "true"})
            return self.wait(accepted["id"], timeout=timeout) if wait else self.submission(accepted["id"])
        try:
            accepted = self._submit_direct(slug, file, description or "")
        except ApiError as error:
            # Filesystem-backed platforms (and servers older than direct uploads) take the file as a form.
            if error.code != DIRECT_UPLOADS_UNAVAILABLE and error.status not in (404, 405):
                raise
            accepted = self._submit_form(slug, file, description or "")
        if wait:
            return self.wait(accepted["id"], timeout=timeout)
        return self.submission(accepted["id"])

    def _submit_form(
        self, slug: str, file: Path, description: str, fields: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """POST the file as a multipart form, streamed from disk."""
        form = {"description": description, **(fields or {})}
        return self._post_form(f"/competitions/{slug}/submissions", file, form)

    def _post_form(self, path: str, file: Path, form: dict[str, str]) -> dict[str, Any]:
        """POST a file and fields as a multipart form, streamed from disk; the JSON answer."""
        boundary = uuid.uuid4().hex
        with transfer.progress_bar(file.stat().st_size, f"uploading {file.name}", self.progress) as bar:

            def body() -> transfer.MultipartBody:
                bar.reset()
                return transfer.MultipartBody(file, form, boundary, bar.update)

            headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
            return self.request("POST", path, body=body, headers=headers).json()

    # -- suggestions -------------------------------------------------------------------------------

    def suggest(
        self, task_id: int, path: str | Path, name: str, version: str = "", threshold: float | None = None
    ) -> dict[str, Any]:
        """Upload an external model's scores (CSV run,lumisection,score) as a source of suggestions for a
        labelling task; returns {"source_id", "rows"}. All or nothing: a refused file adds nothing."""
        file = Path(path)
        if not file.is_file():
            raise ApiError(0, "invalid_input", f"{file} is not a file.")
        form = {"name": name, "version": version}
        if threshold is not None:
            form["threshold"] = repr(float(threshold))
        return self._post_form(f"/tasks/{int(task_id)}/suggestions", file, form)

    def _submit_direct(self, slug: str, file: Path, description: str) -> dict[str, Any]:
        """Checksum the file, ask for presigned URLs, upload straight to the store, then confirm size and sha256.

        The checksums go with the announcement: the store checks each part's CRC32 (or a
        single PUT's sha256) as it arrives, and the server checks the whole file's sha256
        on confirmation. A file sent in parts is hashed while its parts are on their way.
        """
        size = file.stat().st_size
        sizes = transfer.plan_parts(size)
        single = len(sizes) == 1
        sha256, crc32s = transfer.file_checksums(file, sizes, sha256=single, progress=self.progress)
        announced = {
            "file_name": file.name,
            "size": size,
            "description": description,
            "parts": [{"size": part_size, "crc32": crc32} for part_size, crc32 in zip(sizes, crc32s, strict=True)],
        } | ({"sha256": sha256} if sha256 else {})
        upload = self.request("POST", f"/competitions/{slug}/uploads", json=announced).json()
        try:
            with ThreadPoolExecutor(max_workers=1) as hasher:
                hashing = None if sha256 else hasher.submit(transfer.file_sha256, file, progress=False)
                with transfer.progress_bar(size, f"uploading {file.name}", self.progress) as bar:
                    self._put_parts(file, upload["parts"], bar)
                if hashing is not None:
                    sha256 = hashing.result()
            confirmation = {"size": size, "sha256": sha256}
            return self.request("POST", f"/uploads/{upload['id']}/complete", json=confirmation).json()
        except BaseException:
            # Leave nothing behind: a half-sent upload is dropped now rather than when it expires.
            with contextlib.suppress(ApiError):
                self.request("DELETE", f"/uploads/{upload['id']}")
            raise

    def _put(self, part: dict[str, Any], body: Callable[[], Any]) -> None:
        """PUT one part to the store; a part the store finds damaged on arrival (BadDigest) is sent again."""
        for attempt in range(DAMAGED_PART_RETRIES + 1):
            response = self._send(self._store(), "PUT", part["url"], body=body, headers=part.get("headers") or {})
            if response.status_code < 400:
                return
            if not _damaged_in_transit(response) or attempt == DAMAGED_PART_RETRIES:
                raise ApiError(response.status_code, "storage_error", _store_message(response))
            if self.on_wait is not None:
                self.on_wait(f"part {part.get('number', 1)} arrived damaged; sending it again")

    def _put_parts(self, file: Path, parts: list[dict[str, Any]], bar) -> None:
        """A lone part streamed from disk; several sent UPLOAD_THREADS at a time, at most that many in memory."""
        if len(parts) == 1:

            def body() -> transfer.FileSlice:
                bar.reset()  # a retry starts again from the beginning
                return transfer.FileSlice(file, 0, parts[0]["size"], bar.update)

            self._put(parts[0], body)
            return

        def put(part: dict[str, Any], data: bytes) -> None:
            self._put(part, lambda: data)
            bar.update(len(data))

        in_flight: deque[Future] = deque()
        with file.open("rb") as handle, ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
            try:
                for part in parts:
                    if len(in_flight) >= UPLOAD_THREADS:
                        in_flight.popleft().result()
                    handle.seek(part["offset"])
                    in_flight.append(pool.submit(put, part, handle.read(part["size"])))
                while in_flight:
                    in_flight.popleft().result()
            except BaseException:
                for future in in_flight:
                    future.cancel()
                raise

    def submission(self, submission_id: int) -> Submission:
        """A submission's status and scores."""
        return Submission.from_json(self.request("GET", f"/submissions/{submission_id}").json())

    def submissions(self, slug: str) -> list[Submission]:
        """The caller's submissions to a competition, newest first."""
        rows = self.request("GET", f"/competitions/{slug}/submissions").json()["submissions"]
        return [Submission.from_json(row) for row in rows]

    def wait(self, submission_id: int, timeout: float = 3600, first_poll: float = 0.5) -> Submission:
        """Poll a submission, backing off from first_poll to 10 s between polls, until it is scored or failed."""
        deadline = time.monotonic() + timeout
        interval = first_poll
        while True:
            submission = self.submission(submission_id)
            if submission.finished:
                return submission
            if time.monotonic() + interval > deadline:
                raise ApiError(
                    0, "timeout", f"submission {submission_id} is still {submission.status} after {timeout:.0f} s."
                )
            self.sleep(interval)
            interval = min(interval * 1.5, 10.0)

    # -- organisers --------------------------------------------------------------------------------

    def start_export(self, slug: str) -> Export:
        """Organisers: start building one zip of every submission file and the scores (or get the one building)."""
        return Export.from_json(self.request("POST", f"/competitions/{slug}/exports").json())

    def export_status(self, export_id: int) -> Export:
        """Organisers: where an export stands."""
        return Export.from_json(self.request("GET", f"/exports/{export_id}").json())

    def export(self, slug: str, directory: str | Path = ".", timeout: float = 3600) -> Path:
        """Organisers: build the zip of every submission file and scores.csv, wait for it, download and verify it."""
        export = self.start_export(slug)
        deadline, interval = time.monotonic() + timeout, 0.5
        while not export.finished:
            if time.monotonic() + interval > deadline:
                raise ApiError(0, "timeout", f"export {export.id} is still {export.status} after {timeout:.0f} s.")
            self.sleep(interval)
            interval = min(interval * 1.5, 10.0)
            export = self.export_status(export.id)
        if export.status == "failed":
            raise ApiError(0, "export_failed", export.error or f"export {export.id} failed.")
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        return self._download_file(
            f"/exports/{export.id}/file", folder, export.file_name, export.size, export.sha256 or ""
        )

    def select(self, submission_id: int) -> None:
        """Pick a scored submission for the private leaderboard."""
        self.request("POST", f"/submissions/{submission_id}/select")

    def unselect(self, submission_id: int) -> None:
        """Take a submission off the private leaderboard's picks."""
        self.request("DELETE", f"/submissions/{submission_id}/select")


def _damaged_in_transit(response: requests.Response) -> bool:
    """Whether the store refused a PUT because the bytes it got do not match the checksum signed into the URL."""
    return response.status_code == 400 and "<Code>BadDigest</Code>" in (response.text or "")


def _store_message(response: requests.Response) -> str:
    """The storage service's own error text (S3 answers in XML)."""
    match = re.search(r"<Message>(.*?)</Message>", response.text or "")
    detail = match.group(1) if match else response.reason
    return f"the file store refused the upload ({response.status_code}): {detail}"
