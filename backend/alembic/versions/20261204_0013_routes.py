"""model routes: one model name for a list of platform/model targets

Revision ID: 0013_routes
Revises: 0012_cost
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0013_routes"
down_revision: str | None = "0012_cost"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "model_routes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("owner_id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("strategy", sa.String(20), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.Column("updated_at", TIMESTAMP, server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_routes")),
        sa.UniqueConstraint("owner_id", "name", name="uq_model_routes_owner_name"),
    )
    op.create_index("ix_model_routes_owner_id", "model_routes", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_model_routes_owner_id", table_name="model_routes")
    op.drop_table("model_routes")
