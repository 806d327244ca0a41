"""stored Responses API answers; cached and reasoning tokens in the usage books

Revision ID: 0008_responses
Revises: 0007_security
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008_responses"
down_revision: str | None = "0007_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "stored_responses",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("input_items", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_stored_responses_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_responses")),
    )  # fmt: skip
    op.create_index(op.f("ix_stored_responses_user_id"), "stored_responses", ["user_id"])
    op.create_index(op.f("ix_stored_responses_expires_at"), "stored_responses", ["expires_at"])
    with op.batch_alter_table("account_usage") as batch:
        for name in ("cached_tokens", "reasoning_tokens"):
            batch.add_column(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("account_usage") as batch:
        batch.drop_column("reasoning_tokens")
        batch.drop_column("cached_tokens")
    # Its indexes go with it (MySQL will not drop the foreign key's index on its own).
    op.drop_table("stored_responses")
