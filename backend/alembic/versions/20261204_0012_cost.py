"""the usage books per API key

Revision ID: 0012_cost
Revises: 0011_cost
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0012_cost"
down_revision: str | None = "0011_cost"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "api_key_usage",
        sa.Column("api_key_id", BIG_ID, nullable=False),
        sa.Column("platform_id", sa.String(50), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("requests", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cost_units", sa.BigInteger(), nullable=True),
        sa.Column("free_covered_units", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, server_default=sa.func.current_timestamp(),
                  nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], ondelete="CASCADE",
                                name=op.f("fk_api_key_usage_api_key_id_api_keys")),
        sa.PrimaryKeyConstraint("api_key_id", "platform_id", "model", "day",
                                name=op.f("pk_api_key_usage")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("api_key_usage")
