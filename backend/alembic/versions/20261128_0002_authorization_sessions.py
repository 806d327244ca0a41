"""authorization sessions and the credential renewal lock

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "authorization_sessions",
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("platform_id", sa.String(50), nullable=False),
        sa.Column("account_name", sa.String(100), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("interval_s", sa.Integer(), nullable=True),
        sa.Column("next_poll_at", TIMESTAMP, nullable=True),
        sa.Column("account_id", BIG_ID, nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.Column("updated_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_authorization_sessions_user_id_users"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["oauth_accounts.id"],
            name=op.f("fk_authorization_sessions_account_id_oauth_accounts"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_authorization_sessions")),
    )  # fmt: skip
    op.create_index(
        "idx_auth_sessions_status_poll", "authorization_sessions", ["status", "next_poll_at"]
    )
    op.create_index(
        op.f("ix_authorization_sessions_user_id"), "authorization_sessions", ["user_id"]
    )
    with op.batch_alter_table("oauth_accounts") as batch:
        batch.add_column(sa.Column("refresh_lock_until", TIMESTAMP, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_accounts") as batch:
        batch.drop_column("refresh_lock_until")
    op.drop_table("authorization_sessions")
