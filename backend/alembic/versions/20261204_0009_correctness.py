"""the caches' generations in the database, for invalidation across processes without Redis

Revision ID: 0009_correctness
Revises: 0008_responses
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_correctness"
down_revision: str | None = "0008_responses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cache_generations",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cache_generations")),
    )


def downgrade() -> None:
    op.drop_table("cache_generations")
