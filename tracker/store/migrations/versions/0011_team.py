"""team: assignments,notes,two-factor sign-in (#23)

- staff_two_factor: an account's TOTP secret and the last time step accepted (no replay);
- staff_recovery_code: ten single-use recovery codes per enrolment, sha256 only;
- login_challenge: a password accepted, the code not yet (no session until it is);
- assignment: who handles a submission or a mail now;
- staff_note: internal notes on a submission;
- saved_filter: a user's named filters of the list;
- mail_handled: a 需人工答复 mail dealt with (and the answer sent, if any).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'staff_two_factor',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        _at('enrolled_at'),
        sa.Column('last_step', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['staff_user.id']),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'staff_recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        _at('used_at', nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['staff_user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_staff_recovery_code_user_id', 'staff_recovery_code', ['user_id'])
    op.create_table(
        'login_challenge',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        _at('created_at'),
        _at('expires_at'),
        sa.Column('client_ip', sa.String(length=64), nullable=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['staff_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_login_challenge_user_id', 'login_challenge', ['user_id'])
    op.create_table(
        'assignment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=True),
        sa.Column('message_pk', sa.Integer(), nullable=True),
        sa.Column('assignee_id', sa.Integer(), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        _at('at'),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.ForeignKeyConstraint(['message_pk'], ['message.id']),
        sa.ForeignKeyConstraint(['assignee_id'], ['staff_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('submission_id'),
        sa.UniqueConstraint('message_pk'),
    )
    op.create_index('ix_assignment_assignee_id', 'assignment', ['assignee_id'])
    op.create_table(
        'staff_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('author', sa.String(length=100), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        _at('at'),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_staff_note_submission_id', 'staff_note', ['submission_id'])
    op.create_table(
        'saved_filter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        _at('created_at'),
        sa.ForeignKeyConstraint(['user_id'], ['staff_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'name', name='uq_saved_filter_name'),
    )
    op.create_index('ix_saved_filter_user_id', 'saved_filter', ['user_id'])
    op.create_table(
        'mail_handled',
        sa.Column('message_pk', sa.Integer(), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        _at('at'),
        sa.Column('outbox_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['message_pk'], ['message.id']),
        sa.PrimaryKeyConstraint('message_pk'),
    )


def downgrade() -> None:
    op.drop_table('mail_handled')
    op.drop_index('ix_saved_filter_user_id', 'saved_filter')
    op.drop_table('saved_filter')
    op.drop_index('ix_staff_note_submission_id', 'staff_note')
    op.drop_table('staff_note')
    op.drop_index('ix_assignment_assignee_id', 'assignment')
    op.drop_table('assignment')
    op.drop_index('ix_login_challenge_user_id', 'login_challenge')
    op.drop_table('login_challenge')
    op.drop_index('ix_staff_recovery_code_user_id', 'staff_recovery_code')
    op.drop_table('staff_recovery_code')
    op.drop_table('staff_two_factor')
