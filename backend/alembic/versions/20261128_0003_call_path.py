"""the call path: API keys, usage per account/model/day, cooldowns and quota exhaustion

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(40), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_user_id"), "api_keys", ["user_id"])
    op.create_table(
        "account_usage",
        sa.Column("account_id", BIG_ID, nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("requests", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["oauth_accounts.id"],
            name=op.f("fk_account_usage_account_id_oauth_accounts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "model", "day", name=op.f("pk_account_usage")),
    )  # fmt: skip
    op.create_table(
        "account_cooldowns",
        sa.Column("account_id", BIG_ID, nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("until", TIMESTAMP, nullable=False),
        sa.Column("failures", sa.Integer(), server_default="1", nullable=False),
        sa.Column("message", sa.String(255), nullable=True),
        sa.Column("updated_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["oauth_accounts.id"],
            name=op.f("fk_account_cooldowns_account_id_oauth_accounts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "model", name=op.f("pk_account_cooldowns")),
    )  # fmt: skip
    with op.batch_alter_table("oauth_accounts") as batch:
        batch.add_column(sa.Column("exhausted_until", TIMESTAMP, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_accounts") as batch:
        batch.drop_column("exhausted_until")
    op.drop_table("account_cooldowns")
    op.drop_table("account_usage")
    op.drop_table("api_keys")
