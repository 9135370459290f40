"""checklist items, problem categories, bad reason, double certification

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 01:53:10.716488

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

tasks = sa.table('labelling_tasks', sa.column('id', sa.Integer), sa.column('checklists', sa.JSON))


def _convert_checklists(convert):
    connection = op.get_bind()
    for task_id, checklists in connection.execute(sa.select(tasks.c.id, tasks.c.checklists)).all():
        if isinstance(checklists, str):
            checklists = json.loads(checklists)
        connection.execute(
            tasks.update().where(tasks.c.id == task_id).values(checklists=[convert(g) for g in checklists or []])
        )


def upgrade():
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('copy', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('problem_categories', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('bad_reason', sa.String(length=300), server_default='', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_certifications_task_id_run_number_reco'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_certifications_task_id_run_number_reco_copy'), ['task_id', 'run_number', 'reco', 'copy'])

    with op.batch_alter_table('labelling_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('double_certification', sa.Boolean(), server_default=sa.false(), nullable=False))

    # Checklists were names; they become groups of items (a group keeps its name, with one item saying it is done).
    _convert_checklists(lambda g: g if isinstance(g, dict) else {'name': g, 'items': [f'{g} checklist done']})


def downgrade():
    _convert_checklists(lambda g: g['name'] if isinstance(g, dict) else g)

    with op.batch_alter_table('labelling_tasks', schema=None) as batch_op:
        batch_op.drop_column('double_certification')

    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_certifications_task_id_run_number_reco_copy'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_certifications_task_id_run_number_reco'), ['task_id', 'run_number', 'reco'])
        batch_op.drop_column('bad_reason')
        batch_op.drop_column('problem_categories')
        batch_op.drop_column('copy')
