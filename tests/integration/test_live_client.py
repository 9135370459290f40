"""`playground live` against a live server started by the test (embedded mode): download pending.csv, post live
predictions for it, read the live leaderboard, and a refusal printed as the server's message."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner
from playground_client.cli import main

from app.extensions import db
from app.models import SuggestionSource
from tests import services
from tests.helpers import make_token
from tests.unit.suggestions.live_data import SLUG, make_live


def test_playground_live_posts_predictions_for_pending_csv(app, tmp_path):
    with app.app_context():
        token = make_token(make_live().researchers[0])
    url, stop = services.serve(app)
    env = {"PLAYGROUND_URL": url, "PLAYGROUND_TOKEN": token}

    def playground(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    try:
        assert playground("download", SLUG, "-d", str(tmp_path), "-f", "pending.csv").exit_code == 0
        ids = pd.read_csv(tmp_path / "pending.csv", dtype={"id": str})["id"]
        predictions = tmp_path / "live.csv"
        pd.DataFrame({"id": ids, "label": 0.25}).to_csv(predictions, index=False)
        posted = playground("live", SLUG, str(predictions), "--description", "constant")
        assert posted.exit_code == 0, posted.output
        source_id = int(posted.output.strip().splitlines()[-1])
        refused = playground("live", SLUG, str(predictions))
        assert refused.exit_code != 0 and "live predictions of today" in refused.output
        board = playground("live-leaderboard", SLUG)
        assert board.exit_code == 0 and "rita0" in board.output
    finally:
        stop()
    with app.app_context():
        source = db.session.get(SuggestionSource, source_id)
        assert source.description == "constant" and not source.active
