"""ocr queue and numbering: what a stored mail will likely need OCR for, whether it did;
the next reference found by an index (#26)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 23:00:00

The 今日 page counts the OCR backlog: ``message_ocr.hint`` (pictures | pdf, from the
parts' headers when the mail is stored) and ``message_ocr.scanned`` (set when it is
understood), from which the share of PDFs that turn out to be scans is learnt. A table,
not columns of ``message``: commands that only read keep reading a database one
revision behind. Mail stored before this revision is not counted.

A new submission's reference follows the largest one, compared by length first (JB2025-10000
after JB2025-9999): an index on (round_code, length(reference), reference) answers that
from its last entry, where the query sorted every submission of the round per new one.
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_ocr",
        sa.Column("message_pk", sa.Integer(), sa.ForeignKey("message.id"), primary_key=True,
                  autoincrement=False),
        sa.Column("hint", sa.String(length=10), nullable=False),
        sa.Column("scanned", sa.Boolean(), nullable=True),
    )
    op.create_index("ix_submission_reference_order", "submission",
                    ["round_code", sa.text("length(reference)"), "reference"])


def downgrade() -> None:
    op.drop_index("ix_submission_reference_order", table_name="submission")
    op.drop_table("message_ocr")
