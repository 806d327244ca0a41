"""the quota ledger: tokens used and reserved per account and quota day, and the holds of calls
in flight; filled from the usage recorded so far

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "account_quota_days",
        sa.Column("account_id", BIG_ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("reserved_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["oauth_accounts.id"],
            name=op.f("fk_account_quota_days_account_id_oauth_accounts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_account_quota_days")),
    )  # fmt: skip
    op.create_table(
        "quota_holds",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("account_id", BIG_ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["oauth_accounts.id"],
            name=op.f("fk_quota_holds_account_id_oauth_accounts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_holds")),
    )  # fmt: skip
    op.create_index(op.f("ix_quota_holds_account_id"), "quota_holds", ["account_id"])
    op.create_index("ix_quota_holds_expires_at", "quota_holds", ["expires_at"])
    op.execute(
        "INSERT INTO account_quota_days (account_id, day, used_tokens, reserved_tokens) "
        "SELECT account_id, day, SUM(total_tokens), 0 FROM account_usage GROUP BY account_id, day"
    )


def downgrade() -> None:
    op.drop_table("quota_holds")
    op.drop_table("account_quota_days")
