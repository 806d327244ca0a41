"""usage books per route asked for

Revision ID: 0014_routes
Revises: 0013_routes
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0014_routes"
down_revision: str | None = "0013_routes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "route_usage",
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("route", sa.String(100), nullable=False),
        sa.Column("platform_id", sa.String(50), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("requests", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint(
            "user_id", "route", "platform_id", "model", "day", name=op.f("pk_route_usage")
        ),
    )


def downgrade() -> None:
    op.drop_table("route_usage")
