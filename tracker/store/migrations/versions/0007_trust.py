"""trust: claims held for staff, vouched city material, first-contact mail, held replies

- claim: a mail that would change a submission its sender is not a contact of (a quoted
  reference, a repeated credit code) or an unverified city package; applied only when
  staff confirm it.
- message.as_city: material staff took from 山东通 for a city (``ingest --as-city``).
- outbox.first_contact: the mail goes to an address never written to before (the
  hourly budget against backscatter counts these); a reply over budget is ``held``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'claim',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_code', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=True),
        sa.Column('message_pk', sa.Integer(), nullable=False),
        sa.Column('application', sa.Integer(), nullable=True),
        sa.Column('sender', sa.String(length=320), nullable=True),
        sa.Column('city', sa.String(length=20), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.String(length=100), nullable=True),
        sa.Column('note', sa.Text(), nullable=False, server_default=''),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.ForeignKeyConstraint(['message_pk'], ['message.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_claim_state', 'claim', ['state'])
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('as_city', sa.String(length=20), nullable=True))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('first_contact', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('first_contact')
    with op.batch_alter_table('message') as batch:
        batch.drop_column('as_city')
    op.drop_index('ix_claim_state', 'claim')
    op.drop_table('claim')
