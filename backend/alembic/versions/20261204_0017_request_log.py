"""the request log

Revision ID: 0017_request_log
Revises: 0016_budgets
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0017_request_log"
down_revision: str | None = "0016_budgets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "request_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("created_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("surface", sa.String(100), nullable=False),
        sa.Column("model_asked", sa.String(200), nullable=True),
        sa.Column("route", sa.String(100), nullable=True),
        sa.Column("platform_id", sa.String(50), nullable=True),
        sa.Column("model", sa.String(100), nullable=True),
        sa.Column("account_id", BIG_ID, nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("error_kind", sa.String(32), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("first_byte_ms", sa.Integer(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_request_log_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_log")),
    )  # fmt: skip
    op.create_index(op.f("ix_request_log_created_at"), "request_log", ["created_at"])
    op.create_index("idx_request_log_user", "request_log", ["user_id", "id"])
    op.create_index("idx_request_log_account", "request_log", ["account_id", "created_at"])


def downgrade() -> None:
    op.drop_table("request_log")
