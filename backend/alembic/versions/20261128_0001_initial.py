"""users, platform configs and oauth accounts

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Naive UTC; microseconds on MySQL/MariaDB too.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", TIMESTAMP, server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.Column(
            "updated_at", TIMESTAMP, server_default=sa.func.current_timestamp(), nullable=False
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "platform_configs",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.String(50), nullable=False),
        sa.Column("platform_name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("oauth_config", sa.JSON(), nullable=False),
        sa.Column("litellm_config", sa.JSON(), nullable=False),
        sa.Column("quota_config", sa.JSON(), nullable=True),
        sa.Column("is_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_configs")),
        sa.UniqueConstraint("platform_id", name=op.f("uq_platform_configs_platform_id")),
    )
    op.create_table(
        "oauth_accounts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("platform_id", sa.String(50), nullable=False),
        sa.Column("account_name", sa.String(100), nullable=True),
        sa.Column("cookies", sa.JSON(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("quota_used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("quota_limit", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("is_expired", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column("auth_method", sa.String(20), nullable=False),
        sa.Column("credential_hint", sa.String(40), nullable=True),
        sa.Column("secret_extra", sa.Text(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=True),
        sa.Column("status_reason", sa.String(255), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oauth_accounts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_accounts")),
    )
    op.create_index("idx_user_platform", "oauth_accounts", ["user_id", "platform_id"])
    op.create_index("idx_active", "oauth_accounts", ["is_active", "is_expired"])


def downgrade() -> None:
    # Dropping the table drops its indexes; MySQL refuses to drop idx_user_platform on its own
    # while the user_id foreign key relies on it.
    op.drop_table("oauth_accounts")
    op.drop_table("platform_configs")
    op.drop_table("users")
