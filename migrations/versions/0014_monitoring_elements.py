"""monitoring elements

The per-lumisection monitoring elements of runs, one row per (run, monitoring element) pointing to the stored
Parquet object that holds its lumisections (`flask runs import-mes`, the demo); the unique key leads with the
run, which serves listing a run's elements.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monitoring_elements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_number', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('dimension', sa.SmallInteger(), nullable=False),
    sa.Column('x_min', sa.Float(), nullable=False),
    sa.Column('x_max', sa.Float(), nullable=False),
    sa.Column('x_bins', sa.Integer(), nullable=False),
    sa.Column('y_min', sa.Float(), nullable=True),
    sa.Column('y_max', sa.Float(), nullable=True),
    sa.Column('y_bins', sa.Integer(), nullable=True),
    sa.Column('lumisections', sa.Integer(), nullable=False),
    sa.Column('first_lumisection', sa.Integer(), nullable=False),
    sa.Column('last_lumisection', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=1000), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_at', app.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_number'], ['runs.run_number'], name=op.f('fk_monitoring_elements_run_number_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_elements')),
    sa.UniqueConstraint('run_number', 'name', name=op.f('uq_monitoring_elements_run_number_name'))
    )


def downgrade():
    op.drop_table('monitoring_elements')
