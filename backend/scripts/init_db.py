"""Bring the database to the newest schema: `python scripts/init_db.py` (the seed's step 3).

Runs `alembic upgrade head` against DATABASE_URL (the embedded SQLite file by default).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alembic import command
from alembic.config import Config

from app.core.config import BACKEND_DIR, get_settings


def main() -> None:
    settings = get_settings()
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", settings.effective_database_url.replace("%", "%%"))
    command.upgrade(config, "head")
    print("database schema is at head")


if __name__ == "__main__":
    main()
