"""web workspace: staff accounts, their sessions, login attempts, field corrections, previews

- staff_user: accounts of the web workspace (``jiebang user add``), argon2 hashes only;
  disabled, never deleted (the event log names them).
- web_session: one signed-in browser; the cookie's token is stored as its sha256 only.
- login_attempt: every try, so the rate limit holds across processes.
- field_override: staff corrections of fields as read (who, when, old, new); the latest
  per field stands over every version, reprocessing included.
- document_preview: a Word/WPS document converted to PDF once (both in the blob store).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'staff_user',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('city', sa.String(length=20), nullable=True),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'web_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('csrf_token', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('client_ip', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['staff_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_web_session_user_id', 'web_session', ['user_id'])
    op.create_table(
        'login_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('client_ip', sa.String(length=64), nullable=False),
        sa.Column('success', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_attempt_at', 'login_attempt', ['at'])
    op.create_index('ix_login_attempt_username', 'login_attempt', ['username'])
    op.create_index('ix_login_attempt_client_ip', 'login_attempt', ['client_ip'])
    op.create_table(
        'field_override',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=40), nullable=False),
        sa.Column('old_value', sa.JSON(), nullable=True),
        sa.Column('new_value', sa.JSON(), nullable=True),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_field_override_submission_id', 'field_override', ['submission_id'])
    op.create_table(
        'document_preview',
        sa.Column('source_sha256', sa.String(length=64), nullable=False),
        sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('source_sha256'),
    )


def downgrade() -> None:
    op.drop_table('document_preview')
    op.drop_index('ix_field_override_submission_id', 'field_override')
    op.drop_table('field_override')
    for name in ('ix_login_attempt_client_ip', 'ix_login_attempt_username', 'ix_login_attempt_at'):
        op.drop_index(name, 'login_attempt')
    op.drop_table('login_attempt')
    op.drop_index('ix_web_session_user_id', 'web_session')
    op.drop_table('web_session')
    op.drop_table('staff_user')
