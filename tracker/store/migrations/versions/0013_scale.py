"""scale: shared blob store,worker leases (#26)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:00:00

The rules across mails look their open deficiencies up by code (DUPLICATE_LEAD after
each recorded mail): an index on (code, state), so that lookup does not read every
deficiency of the round.
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deficiency_code_state", "deficiency", ["code", "state"])


def downgrade() -> None:
    op.drop_index("ix_deficiency_code_state", table_name="deficiency")
