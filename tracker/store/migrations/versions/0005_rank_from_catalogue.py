"""city_recommendation.rank: any positive rank; the quota comes from the round's catalogue

The 2025 round allowed 2 per direction and 0004 wrote that into a CHECK. A later round
may allow more (campaign.city_quota), so the database keeps ranks positive and unique
per direction, and the application enforces the quota.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:30:00
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('city_recommendation') as batch:
        batch.drop_constraint('ck_city_recommendation_rank', type_='check')
        batch.create_check_constraint('ck_city_recommendation_rank', 'rank >= 1')


def downgrade() -> None:
    with op.batch_alter_table('city_recommendation') as batch:
        batch.drop_constraint('ck_city_recommendation_rank', type_='check')
        batch.create_check_constraint('ck_city_recommendation_rank', 'rank IN (1, 2)')
