"""list indexes: the workspace's submission list sorts, filters and pages in SQL

- submission: unit, direction, city, unit_city, updated_at (the sort keys and filters
  that had no index; reference and status have theirs).
- deficiency (submission_id, state, code): a page's open codes and the filter by code.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SUBMISSION = ("unit", "direction", "city", "unit_city", "updated_at")


def upgrade() -> None:
    for column in SUBMISSION:
        op.create_index(f'ix_submission_{column}', 'submission', [column], unique=False)
    op.create_index('ix_deficiency_open', 'deficiency', ['submission_id', 'state', 'code'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_deficiency_open', table_name='deficiency')
    for column in reversed(SUBMISSION):
        op.drop_index(f'ix_submission_{column}', table_name='submission')
