"""unit keys: each submission's units by key, for credit checks and conflicts (#26)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 18:00:00

Recording a credit result or listing the experts' conflicts read every submission to
compare units. ``submission_unit_key`` holds the keys each unit is found by — the lead's
18-character credit code and normalised name, each partner's normalised name — indexed,
so a lookup reads only the submissions that share a key (tracker/records/unit_keys.py).
Partners live only in a JSON list: a table, not a LIKE over that text, because the JSON
is stored with escapes and names are compared normalised, alike on SQLite and PostgreSQL.

The existing submissions are backfilled here. The normalisation is this revision's own
copy of ``unit_keys.unit_key`` as of 0014 (a migration never imports the code it
outlives); tests/tracker/store/test_migrations.py checks both give the same keys.
"""
import re
import unicodedata
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

KEY_LENGTH = 300
BATCH = 1000

submission = sa.table('submission', sa.column('id', sa.Integer()), sa.column('unit', sa.Text()),
                      sa.column('uscc', sa.String()), sa.column('partners', sa.JSON()))
unit_key_table = sa.table('submission_unit_key', sa.column('submission_id', sa.Integer()),
                          sa.column('role', sa.String()), sa.column('key', sa.String()))


def upgrade() -> None:
    op.create_table(
        'submission_unit_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('submission_id', 'role', 'key'),
    )
    op.create_index('ix_submission_unit_key_key', 'submission_unit_key', ['key'])
    _backfill()


def downgrade() -> None:
    op.drop_index('ix_submission_unit_key_key', table_name='submission_unit_key')
    op.drop_table('submission_unit_key')


def _name_key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    text = re.sub(r"\s+", "", text).replace("（", "(").replace("）", ")")
    return ("name:" + text.lower())[:KEY_LENGTH]


def _keys(unit: str | None, uscc: str | None, partners: list[str] | None) -> set[tuple[str, str]]:
    """(role, key) of a submission's units, as tracker/records/unit_keys.py keeps them."""
    keys: set[tuple[str, str]] = set()
    if unit or uscc:
        keys.add(('lead_unit', _name_key(unit or "")))
        if uscc and len(uscc) == 18:
            keys.add(('lead_unit', uscc.upper()))
    return keys | {('partner_unit', _name_key(p)) for p in partners or [] if p and p.strip()}


def _rows(bind: sa.Connection) -> Iterator[dict[str, object]]:
    # read whole before writing on the same connection (a national round: some 10,000 rows)
    for sid, unit, uscc, partners in bind.execute(sa.select(submission).order_by(submission.c.id)).all():
        for role, key in sorted(_keys(unit, uscc, partners)):
            yield {'submission_id': sid, 'role': role, 'key': key}


def _backfill() -> None:
    bind = op.get_bind()
    batch: list[dict[str, object]] = []
    for row in _rows(bind):
        batch.append(row)
        if len(batch) == BATCH:
            bind.execute(sa.insert(unit_key_table), batch)
            batch = []
    if batch:
        bind.execute(sa.insert(unit_key_table), batch)
