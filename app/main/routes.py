"""Home page and health probes."""

from pathlib import Path

import plotly
from flask import jsonify, render_template, send_file
from sqlalchemy import text

from app.extensions import db
from app.main import bp
from app.services import home


@bp.route("/")
def index():
    """What the platform is, and what is live on it."""
    return render_template(
        "main/index.html",
        competitions=home.open_competitions(),
        tasks=home.labelling_progress(),
        scores=home.recent_scores(),
    )


@bp.route("/healthz")
def healthz():
    """Liveness and readiness probe: answers 200 when the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        return jsonify(status="unavailable", database=False), 503
    return jsonify(status="ok", database=True)


PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@bp.route("/vendor/plotly.min.js")
def plotly_js():
    """Plotly.js as shipped with the plotly package, so that charts need no CDN."""
    return send_file(PLOTLY_JS, mimetype="text/javascript", max_age=7 * 24 * 3600, conditional=True)


FAVICON = Path(__file__).resolve().parent.parent / "static" / "favicon.ico"


@bp.route("/favicon.ico")
def favicon():
    """The site's icon where browsers look for it unasked (pages link the SVG as well)."""
    return send_file(FAVICON, mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600, conditional=True)
