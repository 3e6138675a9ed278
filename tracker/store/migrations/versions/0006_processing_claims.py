"""message: who is understanding it (claimed_by, claimed_at) and how often a worker died on it

An attempt is recorded before a message is handed to a worker, so a message that kills
its worker (or the whole process) is retried a bounded number of times, then
quarantined with the cause, and never blocks the queue behind it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('claimed_by', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('deaths', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.drop_column('deaths')
        batch.drop_column('claimed_at')
        batch.drop_column('claimed_by')
