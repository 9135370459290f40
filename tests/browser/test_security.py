"""Every kind of page works in Chromium under the Content-Security-Policy: nothing blocked, no console error,
charts drawn, and uploads from the submit page reach the S3 store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import boto3
import plotly
import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

import demo
from app.extensions import db
from app.models import Dataset, LabellingTask, Submission, SubmissionStatus, User
from app.models.certification import Certification, TaskRun
from app.services.competitions.bundles import import_bundle
from app.services.datasets import queries
from demo.competitions import RUNNING
from demo.tracker import DATASET_SLUG, TASK_NAME
from tests.conftest import make_app
from tests.helpers import PASSWORD, bearer, make_token, make_user, predictions_csv, write_bundle

pytestmark = pytest.mark.browser
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_CSS = Path(__file__).resolve().parents[2] / "app" / "static" / "vendor" / "plotly" / "plotly.css"

# Reports every blocked load or inline use to the test, whatever the page does with the event.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`);
}, true);
"""

# Records the CSS rules a script adds to any stylesheet, as plotly.js does when it loads.
RECORD_RULES = """
window.__rules = [];
const insertRule = CSSStyleSheet.prototype.insertRule;
CSSStyleSheet.prototype.insertRule = function (rule, index) {
  window.__rules.push(rule);
  return insertRule.call(this, rule, index);
};
"""

# Each progress bar's drawn width as a share of its track, beside the share it stands for.
BAR_SHARES = """
[...document.querySelectorAll(".progress[aria-valuenow]")].map((track) => [
  track.querySelector(".progress-bar").getBoundingClientRect().width / track.getBoundingClientRect().width,
  Number(track.getAttribute("aria-valuenow")) / 100,
])
"""


@dataclass(frozen=True)
class Visit:
    """A page to open as a user (None: anonymous), the charts it must draw and the status it answers."""

    user: str | None
    path: str
    charts: tuple[str, ...] = ()
    status: int = 200


class Browsing:
    """One browser context per user, logged in once, recording what a page must not cause."""

    def __init__(self, browser, base: str, password: str = demo.DEMO_PASSWORD) -> None:
        self.browser = browser
        self.base = base
        self.password = password
        self.pages: dict[str | None, Page] = {}
        self.problems: list[str] = []
        self.current = ""
        self.expected_error = False

    def page_of(self, user: str | None) -> Page:
        """The tab of this user, logged in."""
        if user not in self.pages:
            context: BrowserContext = self.browser.new_context()
            context.expose_function("reportViolation", lambda text: self._note(f"CSP violation: {text}"))
            context.add_init_script(REPORT_VIOLATIONS)
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.on("console", lambda message: self._console(message))
            page.on("pageerror", lambda error: self._note(f"script error: {error}"))
            self.pages[user] = page
            if user is not None:
                self._log_in(page, user)
        return self.pages[user]

    def _log_in(self, page: Page, user: str) -> None:
        page.goto(self.base + "/login")
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(self.password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_test_id("nav-username")).to_have_text(user)

    def _note(self, problem: str) -> None:
        self.problems.append(f"{self.current}: {problem}")
        print(self.problems[-1])  # shown with any failure, the ones a problem causes included

    def _console(self, message) -> None:
        # Chromium reports an error status of the page itself as a failed load: expected where the visit says so.
        expected = self.expected_error and message.location.get("url") == self.base + self.current
        if message.type == "error" and not expected:
            self._note(f"console error: {message.text} ({message.location.get('url')})")
        elif "Content Security Policy" in message.text:
            self._note(f"console {message.type}: {message.text}")

    def visit(self, visit: Visit) -> Page:
        """Open the page, check its status and charts, and let it settle so late violations are heard."""
        page = self.page_of(visit.user)
        self.current, self.expected_error = visit.path, visit.status >= 400
        response = page.goto(self.base + visit.path)
        assert response is not None and response.status == visit.status, f"{visit.path}: {response and response.status}"
        for chart in visit.charts:
            expect(page.locator(f"{chart} .main-svg").first).to_be_attached(timeout=20_000)
        page.wait_for_load_state("networkidle")
        return page

    def close(self) -> None:
        """Close every context."""
        for page in self.pages.values():
            page.context.close()


@pytest.fixture
def app(database_url, tmp_path, s3_bucket) -> Iterator[Flask]:
    """The app storing files in S3 (moto)."""
    bucket, endpoint = s3_bucket
    app = make_app(database_url, tmp_path, STORAGE_URL=f"s3://{bucket}/web", S3_ENDPOINT_URL=endpoint)
    yield app
    app.extensions["job_queue"].join()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def demo_app(app) -> Flask:
    """The app with the demo seeded."""
    with app.app_context():
        demo.seed()
    return app


def demo_pages(app: Flask) -> list[Visit]:
    """One page of each kind on the demo, each as a user who may see it."""
    with app.app_context():
        rita = db.session.execute(db.select(User).where(User.username == "rita")).scalar_one()
        scored = db.session.execute(
            db.select(Submission.id).where(Submission.user_id == rita.id, Submission.status == SubmissionStatus.SCORED)
        ).scalars()
        submission = next(iter(scored))
        task = db.session.execute(db.select(LabellingTask).where(LabellingTask.name == TASK_NAME)).scalar_one()
        certified = db.session.execute(
            db.select(Certification.run_number).where(Certification.task_id == task.id).order_by(Certification.id)
        ).scalars()
        run = next(iter(certified))
        uncertified = db.session.execute(
            db.select(TaskRun.run_number)
            .where(TaskRun.task_id == task.id, TaskRun.run_number.not_in(db.select(Certification.run_number)))
            .order_by(TaskRun.run_number)
        ).scalars()
        open_run = next(iter(uncertified))
        version = db.session.execute(db.select(Dataset).where(Dataset.slug == DATASET_SLUG)).scalar_one().latest
        table = queries.lumisections(version)
        first = table[table[queries.LABEL].notna()].iloc[0]  # a labelled one, of the train split
        ds_run, ls = int(first[queries.RUN]), int(first[queries.LUMISECTION])
    today = datetime.now(UTC).date()
    year, week, _ = today.isocalendar()
    dataset = f"/datasets/{DATASET_SLUG}/v{version.number}"
    return [
        Visit(None, "/"),
        Visit(None, "/competitions"),
        Visit(None, f"/competitions/{RUNNING}"),
        Visit(None, f"/competitions/{RUNNING}/leaderboard", ("#best-over-time",)),
        Visit(None, "/api/v1/docs"),
        Visit(None, "/login"),
        Visit(None, "/register"),
        Visit(None, "/no/such/page", status=404),
        Visit("rita", f"/competitions/{RUNNING}/rules"),
        Visit("rita", f"/competitions/{RUNNING}/data"),
        Visit("rita", f"/competitions/{RUNNING}/submissions"),
        Visit("rita", f"/submissions/{submission}", ("#curve-roc",)),
        Visit("rita", "/account/tokens"),
        Visit("rita", "/account/password"),
        Visit("rita", "/tasks", status=403),
        Visit("sam", "/tasks"),
        Visit("sam", f"/tasks/{task.id}/runs/{open_run}", ("#run-conditions",)),
        Visit("lea", f"/tasks/{task.id}"),
        Visit("lea", f"/tasks/{task.id}/runs/{run}", ("#run-conditions",)),
        Visit("lea", f"/runs/{run}", ("#run-conditions",)),
        Visit("lea", "/reviews"),
        Visit("lea", f"/tasks/{task.id}/checklists"),
        Visit("lea", f"/reports/daily/{today.isoformat()}"),
        Visit("lea", f"/reports/weekly/{year}-W{week:02d}"),
        Visit("olga", "/datasets"),
        Visit("olga", dataset),
        Visit("olga", f"{dataset}/runs/{ds_run}", ("#run-chart",)),
        Visit("olga", f"{dataset}/runs/{ds_run}/ls/{ls}", ('[data-testid="me-chart"]',)),
        Visit("olga", f"/competitions/{RUNNING}/all-submissions"),
        Visit("olga", f"/competitions/{RUNNING}/settings"),
        Visit("olga", "/competitions/new"),
        Visit("olga", f"/tasks/{task.id}/publish"),
        Visit("admin", "/admin/users"),
        Visit("admin", f"/admin/users/{rita.id}"),
        Visit("admin", "/admin/system"),
    ]


@pytest.mark.s3
def test_every_kind_of_page_renders_under_the_policy_with_its_charts(demo_app, live_server, browser):
    """No page breaks a rule of the policy, logs an error (a missing favicon included) or fails to draw a chart."""
    browsing = Browsing(browser, live_server)
    try:
        for visit in demo_pages(demo_app):
            browsing.visit(visit)
        # Where nothing links an icon (a JSON answer, say) browsers ask for /favicon.ico.
        icon = browsing.page_of(None).request.get(live_server + "/favicon.ico")
        assert icon.ok and icon.headers["content-type"] == "image/vnd.microsoft.icon"
        # Progress bars take their width from classes now, not from style attributes: they still show it.
        bars = browsing.visit(Visit(None, "/")).evaluate(BAR_SHARES)
        assert bars and any(drawn > 0 for drawn, _ in bars)
        assert all(abs(drawn - meant) < 0.01 for drawn, meant in bars), bars
    finally:
        browsing.close()
    assert not browsing.problems, "\n".join(browsing.problems)


@pytest.mark.s3
def test_the_submit_page_uploads_to_the_store_under_the_policy(app, live_server, browser, s3_bucket, tmp_path):
    """On S3 storage the browser PUTs the file to the store, the one other origin the policy lets it reach."""
    bucket, endpoint = s3_bucket
    boto3.client("s3", endpoint_url=endpoint).put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [{"AllowedOrigins": [live_server], "AllowedMethods": ["PUT"], "AllowedHeaders": ["*"]}]
        },
    )
    folder, ids, _, x = write_bundle(tmp_path / "bundle")
    with app.app_context():
        slug = import_bundle(folder).slug
        token = make_token(make_user("rita"))
    app.test_client().post(f"/api/v1/competitions/{slug}/join", headers=bearer(token), json={"accept_rules": True})
    predictions = tmp_path / "predictions.csv"
    predictions.write_bytes(predictions_csv(ids, x))

    browsing = Browsing(browser, live_server, PASSWORD)
    try:
        page = browsing.visit(Visit("rita", f"/competitions/{slug}/submit"))
        puts = []
        page.on("request", lambda request: puts.append(request.url) if request.method == "PUT" else None)
        page.get_by_label("Predictions").set_input_files(str(predictions))
        page.get_by_role("button", name="Submit predictions").click()
        expect(page.get_by_text("is queued for scoring")).to_be_visible(timeout=30_000)
        browsing.current = page.url.removeprefix(live_server)
        page.wait_for_load_state("networkidle")
    finally:
        browsing.close()
    assert puts and all(url.startswith(endpoint + "/") for url in puts)
    assert not browsing.problems, "\n".join(browsing.problems)


def test_the_plotly_stylesheet_holds_the_rules_plotly_writes(page):
    """The stylesheet the chart pages link holds exactly the rules plotly.js would otherwise write inline.

    After a Plotly upgrade this fails with the new rules: paste them into app/static/vendor/plotly/plotly.css.
    """
    page.add_init_script(RECORD_RULES)
    page.goto("about:blank")
    page.add_script_tag(path=PLOTLY_JS)
    rules = page.evaluate("window.__rules")
    ours = PLOTLY_CSS.read_text().split("*/\n", 1)[1].splitlines()  # below the opening comment
    assert ours == rules, "plotly.js now writes these rules:\n" + "\n".join(rules)
