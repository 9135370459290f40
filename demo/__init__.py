"""The demo: a login for every role and a living platform to walk through with them.

About twenty synthetic 2024 runs imported as OMS gives them; a labelling task with runs approved (good, with
bad ranges, bad as a whole, low statistics), awaiting review and sent back, each reviewed by a shift leader
other than its certifier; a double-blind task whose two shifters disagree; the dataset published from the
approved labels; a running competition on it with the organiser's baselines and researchers' submissions over
its weeks, two of the researchers in a team; a closed warm-up on its training runs with its private board
revealed; a general competition on a scikit-learn data set; and the loop (``demo.loop``): a model's suggestions
uploaded to the task, the running competition live with a researcher's predictions activated as a source, runs
certified with the suggestions in view and one blind, and the task's models page that measures both. Then the
running competition's development phase closes and a final phase opens on the runs approved since its dataset
was published (``demo.phases``). Every step is skipped when what it makes exists, so seeding twice gives what
seeding once gives.

The demo is not part of the application: ``flask demo`` imports it, and it imports the application's services
(and ``baselines``) as any client of them would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.extensions import db
from app.models import Competition, Dataset, DatasetVersion, Role, User
from app.services import accounts

DEMO_PASSWORD = "playground-demo"


@dataclass(frozen=True)
class DemoLogin:
    """A demo account as printed for the newcomer."""

    username: str
    password: str
    roles: tuple[Role, ...]


DEMO_USERS = (
    DemoLogin("admin", DEMO_PASSWORD, (Role.ADMIN,)),
    DemoLogin("olga", DEMO_PASSWORD, (Role.ORGANISER, Role.RESEARCHER)),
    DemoLogin("lea", DEMO_PASSWORD, (Role.SHIFT_LEADER, Role.SHIFTER)),
    DemoLogin("nora", DEMO_PASSWORD, (Role.SHIFT_LEADER,)),
    DemoLogin("sam", DEMO_PASSWORD, (Role.SHIFTER,)),
    DemoLogin("tom", DEMO_PASSWORD, (Role.SHIFTER,)),
    DemoLogin("rita", DEMO_PASSWORD, (Role.RESEARCHER,)),
    DemoLogin("ravi", DEMO_PASSWORD, (Role.RESEARCHER,)),
    DemoLogin("mia", DEMO_PASSWORD, (Role.RESEARCHER,)),
)


def database_is_empty() -> bool:
    """Whether no account exists yet."""
    return db.session.execute(db.select(User.id).limit(1)).first() is None


def seed_users() -> dict[str, User]:
    """The demo accounts (created when missing), by username."""
    users = {}
    for login in DEMO_USERS:
        user = accounts.find_user(login.username)
        if user is None:
            user = accounts.create_user(
                login.username, login.password, email=f"{login.username}@example.org", roles=set(login.roles)
            )
        users[login.username] = user
    db.session.commit()
    return users


def seed(say: Callable[[str], object] = lambda _: None) -> list[DemoLogin]:
    """Create whatever of the demo is missing (idempotent); returns the demo logins."""
    from demo import blind, competitions, loop, phases, tracker  # heavy imports, only when seeding

    users = seed_users()
    generated = tracker.data()
    runs = tracker.import_runs(generated)
    say(f"{len(runs)} runs imported (synthetic 2024 data, as OMS gives it)")
    say(f"{tracker.store_elements(generated)} monitoring elements stored by run (as flask runs import-mes stores them)")
    task = tracker.certify_runs(generated, [users["sam"], users["lea"]], [users["lea"], users["nora"]])
    say(f"labelling task {task.name!r}: certifications approved, awaiting review and sent back")
    blind_task = blind.certify_blind(generated, (users["sam"], users["tom"]), users["lea"])
    say(f"labelling task {blind_task.name!r}: two blind certifications of each run, and where they disagree")
    if tracker.publish_dataset(task, users["olga"]):
        say(f"dataset {tracker.DATASET_SLUG} published from the approved labels")
    version = _latest_version(tracker.DATASET_SLUG)
    researchers = [users["rita"], users["ravi"], users["mia"]]
    made = [
        competitions.running_competition(version, users["olga"], researchers),
        competitions.closed_competition(version, users["olga"], researchers),
        competitions.general_competition(users["olga"], researchers[:2]),
    ]
    for competition in filter(None, made):
        say(f"competition {competition.slug} created with its submissions")
    competitions.wait_for_scores()
    running = db.session.execute(db.select(Competition).where(Competition.slug == competitions.RUNNING)).scalar_one()
    if competitions.team_up(running, users["rita"], users["ravi"]):
        say(f"team {competitions.TEAM!r}: rita leads, ravi joined by the invite link")
    model = loop.upload_model(task, generated, users["olga"])
    live_source = loop.post_live_source(running, users["rita"], users["lea"])
    say(f"suggestions for the shifters: {model.name} uploaded, {live_source.name} posted live and activated")
    loop.certify_with_suggestions(task, model, generated, (users["sam"], users["tom"]), users["nora"])
    say(f"the loop: /tasks/{task.id}/models (as lea or olga); run {loop.LEFT_RUN} is left to certify with s")
    if phases.final_phase_on_later_runs(running, task, users, researchers):
        say(f"{running.slug}: development phase closed, final phase open on the runs approved since")
    return list(DEMO_USERS)


def _latest_version(slug: str) -> DatasetVersion:
    dataset = db.session.execute(db.select(Dataset).where(Dataset.slug == slug)).scalar_one()
    return dataset.latest
