"""list prices per platform, and the list-price cost of the tokens in the usage books

Revision ID: 0010_cost
Revises: 0009_correctness
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_cost"
down_revision: str | None = "0009_correctness"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("platform_configs", sa.Column("pricing", sa.JSON(), nullable=True))
    op.add_column("account_usage", sa.Column("cost_units", sa.BigInteger(), nullable=True))
    op.add_column("account_usage", sa.Column("free_covered_units", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("account_usage", "free_covered_units")
    op.drop_column("account_usage", "cost_units")
    op.drop_column("platform_configs", "pricing")
