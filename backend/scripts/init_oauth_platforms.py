"""Load platform configs into `platform_configs` (the seed's step 3).

    python scripts/init_oauth_platforms.py                 # upsert the shipped platforms
    python scripts/init_oauth_platforms.py --file my.json  # add or update platforms from a file
    python scripts/init_oauth_platforms.py --only-missing  # add shipped platforms that are absent

A second run with the same file changes nothing. `make run` uses --only-missing so that an
operator's edits in the database survive a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.config import get_settings
from app.core.database import create_engine, create_session_factory, session_scope
from app.core.errors import AppError
from app.services.platforms import (
    SHIPPED_PLATFORMS_FILE,
    read_platform_file,
    upsert_platforms,
)


async def run(path: Path, *, only_missing: bool) -> str:
    entries = read_platform_file(path)
    engine = create_engine(get_settings().effective_database_url)
    try:
        async with session_scope(create_session_factory(engine)) as session:
            report = await upsert_platforms(session, entries, only_missing=only_missing)
    finally:
        await engine.dispose()
    return (
        f"platforms added: {', '.join(report.added) or '-'}; "
        f"updated: {', '.join(report.updated) or '-'}; unchanged: {len(report.unchanged)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--file", type=Path, default=SHIPPED_PLATFORMS_FILE, help="platform config JSON"
    )
    parser.add_argument(
        "--only-missing", action="store_true", help="never update existing platforms"
    )
    args = parser.parse_args(argv)
    try:
        print(asyncio.run(run(args.file, only_missing=args.only_missing)))
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
