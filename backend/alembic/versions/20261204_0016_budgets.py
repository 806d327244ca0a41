"""budgets per API key and per user

Revision ID: 0016_budgets
Revises: 0014_routes
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0016_budgets"
down_revision: str | None = "0014_routes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.add_column("users", sa.Column("limits", sa.JSON(), nullable=True))
    op.create_table(
        "budget_periods",
        sa.Column("owner", sa.String(8), nullable=False),
        sa.Column("owner_id", BIG_ID, nullable=False),
        sa.Column("budget", sa.String(40), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("used", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("reserved", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("alerted", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("owner", "owner_id", "budget", "period",
                                name=op.f("pk_budget_periods")),
    )  # fmt: skip
    op.create_table(
        "budget_holds",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(8), nullable=False),
        sa.Column("owner_id", BIG_ID, nullable=False),
        sa.Column("budget", sa.String(40), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_holds")),
    )
    op.create_index("ix_budget_holds_expires_at", "budget_holds", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_budget_holds_expires_at", table_name="budget_holds")
    op.drop_table("budget_holds")
    op.drop_table("budget_periods")
    op.drop_column("users", "limits")
