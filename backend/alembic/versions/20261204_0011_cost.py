"""what calls with an API key may use (its limits)

Revision ID: 0011_cost
Revises: 0010_cost
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_cost"
down_revision: str | None = "0010_cost"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("limits", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("api_keys", "limits")
