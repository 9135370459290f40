"""Dataset pages: versions, files, and the data by run and lumisection before anyone models it."""

from flask import Blueprint

bp = Blueprint("datasets", __name__)

from app.datasets import routes  # noqa: E402,F401
