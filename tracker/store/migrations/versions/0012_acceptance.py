"""acceptance: acceptance requests and results, excellent results (#25)

- submission.acceptance: None | requested | passed | rework (``list --json``).
- acceptance_request: a selected unit's request, what it sent and what was missing.
- acceptance_decision: passed, or rework with a reason and a date.
- excellent_result: the passed applications chosen as 优秀成果, who and when.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('submission', sa.Column('acceptance', sa.String(length=20), nullable=True))
    op.create_table(
        'acceptance_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('message_pk', sa.Integer(), nullable=False),
        sa.Column('received', sa.JSON(), nullable=False),
        sa.Column('missing', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.ForeignKeyConstraint(['message_pk'], ['message.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_pk'),
    )
    op.create_index('ix_acceptance_request_submission_id', 'acceptance_request', ['submission_id'])
    op.create_table(
        'acceptance_decision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('result', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('until', sa.Date(), nullable=True),
        sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_acceptance_decision_submission_id', 'acceptance_decision', ['submission_id'])
    op.create_table(
        'excellent_result',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), server_default='', nullable=False),
        sa.Column('marked_by', sa.String(length=100), nullable=False),
        sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('submission_id'),
    )


def downgrade() -> None:
    for table in ('excellent_result', 'acceptance_decision', 'acceptance_request'):
        op.drop_table(table)
    op.drop_column('submission', 'acceptance')
