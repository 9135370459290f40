"""single sign-on accounts and roles from groups

Users gain the single sign-on provider's `sub` (unique: a login through the provider finds its account by it),
and each role a user holds records whether it came from the provider's groups (taken away again at the first
login without such a group) or was granted by hand (kept). Every existing role was granted by hand.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 09:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    # Not in batch mode: on SQLite that copies the table and loses the index on lower(username).
    op.add_column("users", sa.Column("oidc_sub", sa.String(length=255), nullable=True))
    op.create_index("uq_users_oidc_sub", "users", ["oidc_sub"], unique=True)
    op.add_column("user_roles", sa.Column("from_group", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    op.drop_column("user_roles", "from_group")
    op.drop_index("uq_users_oidc_sub", table_name="users")
    op.drop_column("users", "oidc_sub")
