"""baselines without a participation

An organiser's baseline is not a participant's submission: it is charged to no quota, counted as no
participant, and submitted by organisers who may not join (the publisher of a task's labels). So a
submission's participation becomes optional, and the schema keeps it required for everything but baselines.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 17:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.alter_column('participation_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(
            batch_op.f('ck_submissions_baseline_or_participant'), 'participation_id IS NOT NULL OR is_baseline'
        )


def downgrade():
    # Before this revision every submission had a participation: give each baseline its author's,
    # joining them to the competition where they had not joined.
    connection = op.get_bind()
    orphans = connection.execute(
        sa.text("SELECT DISTINCT competition_id, user_id FROM submissions WHERE participation_id IS NULL")
    ).all()
    for competition_id, user_id in orphans:
        keys = {"competition": competition_id, "user": user_id}
        find = sa.text("SELECT id FROM participations WHERE competition_id = :competition AND user_id = :user")
        participation = connection.execute(find, keys).scalar()
        if participation is None:
            connection.execute(
                sa.text(
                    "INSERT INTO participations (competition_id, user_id, joined_at, rules_accepted_at) "
                    "VALUES (:competition, :user, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                keys,
            )
            participation = connection.execute(find, keys).scalar()
        connection.execute(
            sa.text(
                "UPDATE submissions SET participation_id = :participation "
                "WHERE participation_id IS NULL AND competition_id = :competition AND user_id = :user"
            ),
            keys | {"participation": participation},
        )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_submissions_baseline_or_participant'), type_='check')
        batch_op.alter_column('participation_id', existing_type=sa.Integer(), nullable=False)
