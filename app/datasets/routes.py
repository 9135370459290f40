"""Dataset views: the list, a version with its files and class balance, a run along its lumisections."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.datasets import bp
from app.downloads import send_stored
from app.extensions import db
from app.models import Competition, CompetitionPhase, Dataset, DatasetVersion
from app.services.competitions.visibility import is_organiser
from app.services.datasets import queries


def _version(slug: str, number: int | None) -> DatasetVersion:
    dataset = db.session.execute(db.select(Dataset).where(Dataset.slug == slug)).scalar_one_or_none()
    if dataset is None or not dataset.versions:
        abort(404, description=f"No dataset {slug!r}.")
    if number is None:
        return dataset.latest
    version = next((v for v in dataset.versions if v.number == number), None)
    if version is None:
        abort(404, description=f"Dataset {slug!r} has no version {number}.")
    return version


def _version_page(template: str, version: DatasetVersion, **context: Any) -> str:
    """A page of one version of a dataset: the version and its dataset, and what the page adds."""
    return render_template(template, version=version, dataset=version.dataset, **context)


def _competitions(version: DatasetVersion) -> list[Competition]:
    """The competitions scored on the version: on it, or with a phase on it (a final phase built from a task)."""
    in_phases = db.select(CompetitionPhase.competition_id).where(CompetitionPhase.dataset_version_id == version.id)
    return list(
        db.session.execute(
            db.select(Competition)
            .where((Competition.dataset_version_id == version.id) | Competition.id.in_(in_phases))
            .order_by(Competition.id)
        ).scalars()
    )


@bp.route("/datasets")
def index():
    """Every dataset with its latest version."""
    datasets = db.session.execute(db.select(Dataset).order_by(Dataset.created_at.desc())).scalars().all()
    return render_template("datasets/index.html", datasets=[d for d in datasets if d.versions])


@bp.route("/datasets/<slug>")
@bp.route("/datasets/<slug>/v<int:number>")
def version(slug: str, number: int | None = None):
    """A version: notes, files, competitions on it, and the class balance per split and per run."""
    version = _version(slug, number)
    table = queries.lumisections(version)
    runs = queries.balance(table) if table is not None else []
    return _version_page(
        "datasets/version.html",
        version,
        runs=runs,
        splits=queries.split_balance(runs),
        competitions=_competitions(version),
    )


@bp.route("/datasets/<slug>/v<int:number>/runs/<int:run_number>")
def run(slug: str, number: int, run_number: int):
    """One run of the version: its conditions and labels along the lumisections."""
    version = _version(slug, number)
    table = queries.lumisections(version)
    if table is None:
        abort(404, description="This dataset is not laid out by run and lumisection.")
    rows = table[table[queries.RUN] == run_number]
    if rows.empty:
        abort(404, description=f"Run {run_number} is not in this dataset.")
    balance = queries.balance(rows)[0]
    return _version_page(
        "datasets/run.html",
        version,
        balance=balance,
        chart=queries.run_figure(rows),
        bad_spans=queries.bad_spans(rows),
    )


@bp.route("/datasets/<slug>/v<int:number>/runs/<int:run_number>/ls")
def open_lumisection(slug: str, number: int, run_number: int):
    """The lumisection typed in the run page's form."""
    wanted = request.args.get("ls", type=int)
    if wanted is None or wanted < 1:
        abort(400, description="Give a lumisection number, 1 or more.")
    return redirect(url_for(".lumisection", slug=slug, number=number, run_number=run_number, lumisection=wanted))


@bp.route("/datasets/<slug>/v<int:number>/runs/<int:run_number>/ls/<int:lumisection>")
def lumisection(slug: str, number: int, run_number: int, lumisection: int):
    """One lumisection's monitoring elements beside those of a good reference lumisection, as the DQM GUI shows."""
    version = _version(slug, number)
    table = queries.lumisections(version)
    if table is None:
        abort(404, description="This dataset is not laid out by run and lumisection.")
    here = table[(table[queries.RUN] == run_number) & (table[queries.LUMISECTION] == lumisection)]
    if here.empty:
        abort(404, description=f"Run {run_number} lumisection {lumisection} is not in this dataset.")
    reference = queries.good_reference(table, run_number, lumisection)
    titles = {(run_number, lumisection): f"{run_number}:{lumisection}"}
    if reference is not None:
        titles[reference] = f"{reference[0]}:{reference[1]} (good reference)"
    rows = queries.monitoring_elements_of(version, list(titles))
    charts = []
    if rows is not None:
        charts = [
            (str(hname), queries.element_figure(rows, str(hname), titles)) for hname in sorted(rows["hname"].unique())
        ]
    return _version_page(
        "datasets/lumisection.html",
        version,
        run_number=run_number,
        lumisection=lumisection,
        label=queries.label_of(here),
        reference=reference,
        charts=charts,
        has_elements=rows is not None,
    )


@bp.route("/datasets/<slug>/v<int:number>/files/<name>")
@login_required
def download(slug: str, number: int, name: str):
    """A public file; the files of a competition's dataset come through the competition, after joining it."""
    version = _version(slug, number)
    file = next((f for f in version.public_files if f.name == name), None)
    if file is None:
        abort(404)
    competitions = _competitions(version)
    if competitions and not is_organiser(current_user):
        flash("This dataset is a competition's: join the competition to download its files.", "info")
        return redirect(url_for("competitions.data", slug=competitions[0].slug))
    return send_stored(file.storage_key, file.name, file.sha256)
