"""The simulated users of bench/load.py (run by locust, headless): viewers, researchers and shifters.

Read from the JSON file named by LOAD_FIXTURE: the competitions and datasets to browse, one API token
per researcher and shifter, the shifters' password, and the labelling tasks to certify. Each user sends
the address of a client of its own in X-Forwarded-For (the platform runs with TRUSTED_PROXIES=1, as
behind a router), so that per-client limits such as login's count each user, not the load generator.
Requests are named by route, so that percentiles are per page and per API call.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time

from locust import HttpUser, between, task

FIXTURE = json.loads(open(os.environ["LOAD_FIXTURE"]).read())  # noqa: SIM115  (read once, at import)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_clients = itertools.count(1)
_researchers = itertools.count()
_shifters = itertools.count()


class Client(HttpUser):
    """A browser or script at an address of its own. HttpUser (requests) rather than FastHttpUser: like a
    browser, it notices that the server closed a kept-alive connection (a stopping web process does)
    before sending a request on it."""

    abstract = True

    def on_start(self) -> None:
        number = next(_clients)
        # Addresses of the documentation range (RFC 5737): only a header, no traffic goes there.
        self.headers = {"X-Forwarded-For": f"198.51.100.{number % 250 + 1}"}

    def page(self, path: str, name: str) -> None:
        self.client.get(path, name=f"page {name}", headers=self.headers)

    def api(self, method: str, path: str, name: str, token: str, **kwargs):
        headers = self.headers | {"Authorization": f"Bearer {token}"} | kwargs.pop("headers", {})
        return self.client.request(method, path, name=f"api {method} {name}", headers=headers, **kwargs)


class Viewer(Client):
    """An anonymous visitor: home, competitions, leaderboards (page and API), datasets."""

    weight = 5
    wait_time = between(1, 3)

    @task(2)
    def home(self) -> None:
        self.page("/", "/")

    @task(2)
    def competitions(self) -> None:
        self.page("/competitions", "/competitions")
        self.page(f"/competitions/{random.choice(FIXTURE['competitions'])}", "/competitions/[slug]")

    @task(4)
    def leaderboard(self) -> None:
        slug = random.choice(FIXTURE["competitions"])
        self.page(f"/competitions/{slug}/leaderboard", "/competitions/[slug]/leaderboard")
        self.client.get(
            f"/api/v1/competitions/{slug}/leaderboard",
            name="api GET /competitions/[slug]/leaderboard",
            headers=self.headers,
        )

    @task(2)
    def dataset(self) -> None:
        dataset = random.choice(FIXTURE["datasets"])
        self.page(f"/datasets/{dataset['slug']}", "/datasets/[slug]")
        run = random.choice(dataset["runs"])
        self.page(f"/datasets/{dataset['slug']}/v{dataset['version']}/runs/{run}", "/datasets/[slug]/v[n]/runs/[run]")


class Researcher(Client):
    """Submits predictions through the API, polls the submission until it is scored, reads the board."""

    weight = 3
    wait_time = between(2, 5)

    def on_start(self) -> None:
        super().on_start()
        self.token = FIXTURE["researchers"][next(_researchers) % len(FIXTURE["researchers"])]
        self.slug = FIXTURE["load_competition"]
        self.predictions = FIXTURE["predictions"].encode()

    @task
    def submit_and_wait(self) -> None:
        submitted = self.api(
            "POST",
            f"/api/v1/competitions/{self.slug}/submissions",
            "/competitions/[slug]/submissions",
            self.token,
            files={"file": ("predictions.csv", self.predictions, "text/csv")},
        )
        if submitted.status_code != 202:
            return
        submission = submitted.json()["id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(1)
            status = self.api("GET", f"/api/v1/submissions/{submission}", "/submissions/[id]", self.token)
            if status.status_code != 200 or status.json()["status"] in ("scored", "failed"):
                break
        self.api("GET", f"/api/v1/competitions/{self.slug}/leaderboard", "/competitions/[slug]/leaderboard", self.token)


class Shifter(Client):
    """Logs in, takes the next run of a task, opens its certification page, certifies it through the API."""

    weight = 2
    wait_time = between(2, 5)

    def on_start(self) -> None:
        super().on_start()
        self.name, self.token = FIXTURE["shifters"][next(_shifters) % len(FIXTURE["shifters"])]
        self.to_certify = list(FIXTURE["tasks"])  # not `tasks`: locust's name for a user's task list
        random.shuffle(self.to_certify)
        login = self.client.get("/login", name="page /login", headers=self.headers)
        token = CSRF.search(login.text or "")
        form = {"username": self.name, "password": FIXTURE["password"], "csrf_token": token.group(1) if token else ""}
        with self.client.post(
            "/login",
            name="page POST /login",
            data=form,
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:  # a login that fails shows the form again, with a 200
                response.failure(f"login of {self.name} refused: {response.status_code}")

    @task
    def certify_next(self) -> None:
        while self.to_certify:
            chosen = self.to_certify[0]
            answer = self.api(
                "GET", f"/api/v1/tasks/{chosen['id']}/next", "/tasks/[id]/next", self.token, catch_response=True
            )
            with answer as response:
                if response.status_code == 404:  # nothing left in this task for this shifter
                    response.success()
                    self.to_certify.pop(0)
                    continue
            if answer.status_code != 200:
                return
            run = answer.json()["run_number"]
            self.page(f"/tasks/{chosen['id']}/runs/{run}", "/tasks/[id]/runs/[run]")
            body = {
                "run_number": run,
                "pixel": "good",
                "strip": "good",
                "tracking": "good",
                "checklist": dict.fromkeys(chosen["checklists"], True),
                "comment": "load test",
            }
            self.api(
                "POST",
                f"/api/v1/tasks/{chosen['id']}/certifications",
                "/tasks/[id]/certifications",
                self.token,
                json=body,
            )
            self.page(f"/tasks/{chosen['id']}", "/tasks/[id]")
            return
        self.page(f"/tasks/{FIXTURE['tasks'][0]['id']}", "/tasks/[id]")  # every run certified: reads on
