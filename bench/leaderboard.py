"""Leaderboard: 200,000 submissions by 2,000 participants in PostgreSQL, alone and then in 700 teams.

For each, prints the median time of the one SQL query that computes the public board, the
median time of the leaderboard API computing it (cache cleared before each call)
and served from the cache, and the ratio API / SQL. Target: API (computing) <= 3 x SQL.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
from _support import make_app, median_seconds, postgres_database
from sqlalchemy import text

PARTICIPANTS = 2_000
SUBMISSIONS = 200_000
TEAMS = 700  # of about three members each: every participant is in one
REPEAT = 15


def populate(app, teams: bool) -> str:
    """Users, a competition, participations (in teams when asked) and scored submissions, inserted in bulk."""
    from app.extensions import db
    from app.services.competitions.bundles import import_bundle
    from tests.helpers import write_bundle

    with app.app_context():
        folder, *_ = write_bundle(Path(tempfile.mkdtemp()) / "bundle")
        competition = import_bundle(folder)
        rng = np.random.default_rng(0)
        connection = db.session.connection().connection.dbapi_connection
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO users (id, username, password_hash, active, created_at) "
                "SELECT g, 'user' || g, 'x', true, now() FROM generate_series(1, %s) g",
                (PARTICIPANTS,),
            )
            cursor.execute(
                "INSERT INTO participations (id, competition_id, user_id, joined_at, rules_accepted_at) "
                "SELECT g, %s, g, now(), now() FROM generate_series(1, %s) g",
                (competition.id, PARTICIPANTS),
            )
            if teams:  # participant g is in team (g - 1) % TEAMS + 1, led by its first member
                cursor.execute(
                    "INSERT INTO teams (id, competition_id, name, leader_id, invite_token, created_at) "
                    "SELECT g, %s, 'team ' || g, g, md5(g::text), now() FROM generate_series(1, %s) g",
                    (competition.id, TEAMS),
                )
                cursor.execute(
                    "INSERT INTO team_members (id, competition_id, team_id, user_id, joined_at) "
                    "SELECT g, %s, (g - 1) %% %s + 1, g, now() FROM generate_series(1, %s) g",
                    (competition.id, TEAMS, PARTICIPANTS),
                )
            owners = rng.integers(1, PARTICIPANTS + 1, SUBMISSIONS)
            phase = competition.phases[0].id
            public, private = rng.random(SUBMISSIONS), rng.random(SUBMISSIONS)
            alone = "\\N"  # COPY's NULL: a submission of a participant alone
            rows = "\n".join(
                f"{i + 1}\t{competition.id}\t{phase}\t{o}\t{o}\t{(o - 1) % TEAMS + 1 if teams else alone}\tscored\t\t"
                f"p.csv\tk\t1\t{'0' * 64}\tt\tf\t{a}\t{b}\t0\t0\t2026-11-{1 + i % 27:02d} {i % 24:02d}:00:00+00"
                for i, (o, a, b) in enumerate(zip(owners, public, private, strict=True))
            )
            import io

            cursor.copy_expert(
                "COPY submissions (id, competition_id, phase_id, participation_id, user_id, team_id, status, "
                "description, file_name, file_key, file_size, file_sha256, counted, is_baseline, public_score, "
                "private_score, attempts, requeues, submitted_at) FROM STDIN",
                io.StringIO(rows),
            )
            cursor.execute("ANALYZE")
        db.session.commit()
        return competition.slug


def measure(teams: bool) -> None:
    """Populate a fresh database and print the board's SQL, API and cache times."""
    with postgres_database() as url:
        app = make_app(url, Path(tempfile.mkdtemp()) / "storage")
        slug = populate(app, teams)
        from app.extensions import db
        from app.models import Competition
        from app.services.competitions import leaderboards

        client = app.test_client()
        with app.app_context():
            competition = db.session.execute(db.select(Competition)).scalar_one()
            sql = leaderboards._PUBLIC_SQL.format(order="DESC", best="MAX")
            phase = competition.phases[0]
            params = {"competition": competition.id, "phase": phase.id, "no": False, "yes": True, "finals": 2}

            def query():
                return db.session.execute(text(sql), params).all()

            sql_time = median_seconds(query, REPEAT)
            rows = len(query())

            def api_cold():
                leaderboards.invalidate(competition)
                response = client.get(f"/api/v1/competitions/{slug}/leaderboard")
                assert response.status_code == 200

            cold = median_seconds(api_cold, REPEAT)
            warm = median_seconds(lambda: client.get(f"/api/v1/competitions/{slug}/leaderboard"), REPEAT)
            db.engine.dispose()
    who = f"{TEAMS} teams of {PARTICIPANTS:,} participants" if teams else f"{rows:,} participants"
    print(f"leaderboard of {who} ({rows} rows) over {SUBMISSIONS:,} submissions (median of {REPEAT})")
    print(f"  one SQL query:            {sql_time * 1000:8.1f} ms")
    print(f"  API, computing the board: {cold * 1000:8.1f} ms   ratio {cold / sql_time:.2f} x SQL (target <= 3)")
    print(f"  API, from the cache:      {warm * 1000:8.1f} ms   ratio {warm / sql_time:.2f} x SQL")


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    measure(teams=False)
    measure(teams=True)


if __name__ == "__main__":
    main()
