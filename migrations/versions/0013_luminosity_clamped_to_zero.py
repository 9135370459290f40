"""luminosity clamped to zero

OMS rounds luminometer noise to slightly negative per-lumisection luminosities; imports now store them as 0.
Lumisections imported before get the same treatment, and their runs' totals are summed again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 09:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

COLUMNS = ('delivered_lumi', 'recorded_lumi')


def upgrade():
    negative = ' OR '.join(f'l.{c} < 0' for c in COLUMNS)
    sums = ', '.join(
        f'{c} = (SELECT SUM(CASE WHEN l.{c} < 0 THEN 0 ELSE l.{c} END) FROM lumisections AS l'
        f' WHERE l.run_number = runs.run_number)'
        for c in COLUMNS
    )
    op.execute(
        f'UPDATE runs SET {sums}'
        f' WHERE EXISTS (SELECT 1 FROM lumisections AS l WHERE l.run_number = runs.run_number AND ({negative}))'
    )
    for column in COLUMNS:
        op.execute(f'UPDATE lumisections SET {column} = 0 WHERE {column} < 0')


def downgrade():
    pass  # the noise below zero is not kept
