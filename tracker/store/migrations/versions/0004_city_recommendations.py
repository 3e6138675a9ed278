"""city_recommendation table (tracker.records.city.CityRecommendation): a city's ranked picks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 00:30:00
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('city_recommendation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('direction', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rank IN (1, 2)', name='ck_city_recommendation_rank'),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_code', 'city', 'direction', 'rank', name='uq_city_recommendation_rank'),
    sa.UniqueConstraint('round_code', 'submission_id', name='uq_city_recommendation_submission')
    )


def downgrade() -> None:
    op.drop_table('city_recommendation')
