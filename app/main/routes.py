"""Home page and health probes."""

from flask import jsonify, render_template
from sqlalchemy import text

from app.extensions import db
from app.main import bp


@bp.route("/")
def index():
    """What is live on the platform."""
    return render_template("main/index.html")


@bp.route("/healthz")
def healthz():
    """Liveness and readiness probe: answers 200 when the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        return jsonify(status="unavailable", database=False), 503
    return jsonify(status="ok", database=True)
