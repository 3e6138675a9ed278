"""review: formal review, credit checks, experts, panels, conflicts, scores, publication (#24)

- submission.formal / formal_reason: 形式审查 pass | fail and why (status formal_failed).
- staff_user.email / unit / uscc: an expert's address and unit (conflicts are found from it).
- credit_check: 信用中国 / 信用山东 results per unit, with the evidence file's digest.
- panel, panel_member: 评审组 by direction and their experts.
- recusal: conflicts declared by an expert or added by staff (found ones are computed).
- score: one expert's marks for one application.
- publication: the 公示名单 as published and the end of its 公示期.
- objection: a mail objecting to a published application, for staff.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 18:00:00
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column('submission', sa.Column('formal', sa.String(length=10), nullable=True))
    op.add_column('submission', sa.Column('formal_reason', sa.Text(), nullable=True))
    op.add_column('staff_user', sa.Column('email', sa.String(length=320), nullable=True))
    op.add_column('staff_user', sa.Column('unit', sa.Text(), nullable=True))
    op.add_column('staff_user', sa.Column('uscc', sa.String(length=18), nullable=True))
    op.create_table(
        'credit_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_key', sa.String(length=300), nullable=False),
        sa.Column('unit', sa.Text(), nullable=True),
        sa.Column('uscc', sa.String(length=18), nullable=True),
        sa.Column('result', sa.String(length=20), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), server_default='', nullable=False),
        sa.Column('evidence_sha256', sa.String(length=64), nullable=True),
        sa.Column('evidence_name', sa.String(length=255), nullable=True),
        sa.Column('recorded_by', sa.String(length=100), nullable=False),
        _ts('created_at', False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_credit_check_unit_key', 'credit_check', ['unit_key'])
    op.create_table(
        'panel',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('directions', sa.JSON(), nullable=False),
        _ts('closed_at', True),
        _ts('created_at', False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'panel_member',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('panel_id', sa.Integer(), nullable=False),
        sa.Column('expert_id', sa.Integer(), nullable=False),
        _ts('invited_at', True),
        _ts('reminded_at', True),
        sa.ForeignKeyConstraint(['panel_id'], ['panel.id']),
        sa.ForeignKeyConstraint(['expert_id'], ['staff_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('panel_id', 'expert_id'),
    )
    op.create_index('ix_panel_member_panel_id', 'panel_member', ['panel_id'])
    op.create_index('ix_panel_member_expert_id', 'panel_member', ['expert_id'])
    op.create_table(
        'recusal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('expert_id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), server_default='', nullable=False),
        sa.Column('recorded_by', sa.String(length=100), nullable=False),
        _ts('created_at', False),
        sa.ForeignKeyConstraint(['expert_id'], ['staff_user.id']),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('expert_id', 'submission_id'),
    )
    op.create_index('ix_recusal_expert_id', 'recusal', ['expert_id'])
    op.create_index('ix_recusal_submission_id', 'recusal', ['submission_id'])
    op.create_table(
        'score',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('expert_id', sa.Integer(), nullable=False),
        sa.Column('marks', sa.JSON(), nullable=False),
        sa.Column('total', sa.Float(), nullable=False),
        sa.Column('comment', sa.Text(), server_default='', nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('entered_by', sa.String(length=100), nullable=False),
        _ts('created_at', False),
        _ts('updated_at', False),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.ForeignKeyConstraint(['expert_id'], ['staff_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('submission_id', 'expert_id'),
    )
    op.create_index('ix_score_submission_id', 'score', ['submission_id'])
    op.create_index('ix_score_expert_id', 'score', ['expert_id'])
    op.create_table(
        'publication',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_code', sa.String(length=20), nullable=False),
        _ts('published_at', False),
        sa.Column('notice_ends', sa.Date(), nullable=False),
        sa.Column('estimated', sa.Boolean(), nullable=False),
        sa.Column('references', sa.JSON(), nullable=False),
        sa.Column('published_by', sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'objection',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=True),
        sa.Column('message_pk', sa.Integer(), nullable=False),
        sa.Column('sender', sa.String(length=320), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), server_default='', nullable=False),
        sa.Column('handled_by', sa.String(length=100), nullable=True),
        _ts('created_at', False),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.ForeignKeyConstraint(['message_pk'], ['message.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_pk'),
    )
    op.create_index('ix_objection_submission_id', 'objection', ['submission_id'])


def downgrade() -> None:
    for table in ('objection', 'publication', 'score', 'recusal', 'panel_member', 'panel', 'credit_check'):
        op.drop_table(table)
    for column in ('uscc', 'unit', 'email'):
        op.drop_column('staff_user', column)
    for column in ('formal_reason', 'formal'):
        op.drop_column('submission', column)
