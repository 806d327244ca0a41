"""the first administrator decided by a unique seat; OAuth sessions bound to a browser

Revision ID: 0007_security
Revises: 0006
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_security"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("admin_seat", sa.Boolean(), nullable=True))
        batch.create_unique_constraint(op.f("uq_users_admin_seat"), ["admin_seat"])
    # A service that already has users has had its first one: that user holds the seat.
    users = sa.table("users", sa.column("id", sa.BigInteger()), sa.column("admin_seat"))
    first = op.get_bind().scalar(sa.select(sa.func.min(users.c.id)))
    if first is not None:  # (MySQL cannot update a table its own subquery reads)
        op.execute(users.update().where(users.c.id == first).values(admin_seat=True))
    with op.batch_alter_table("authorization_sessions") as batch:
        batch.add_column(sa.Column("browser_binding", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("authorization_sessions") as batch:
        batch.drop_column("browser_binding")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_admin_seat"), type_="unique")
        batch.drop_column("admin_seat")
