"""Load platform configs into `platform_configs` (the seed's step 3).

    python scripts/init_oauth_platforms.py                 # upsert the shipped platforms
    python scripts/init_oauth_platforms.py --file my.json  # add or update platforms from a file
    python scripts/init_oauth_platforms.py --file my.json --replace  # replace them whole
    python scripts/init_oauth_platforms.py --only-missing  # add shipped platforms that are absent

A file over an existing platform is merged into it key by key (its `oauth_config`,
`litellm_config` and `quota_config` keep the keys the file does not name), and what changed is
printed. `provider` must be one of litellm's providers; the seed's names (`qwen`, …) are taken
as aliases. A second run with the same file changes nothing. `make run` uses --only-missing so
that an operator's edits in the database survive a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis

from app.core.cache import Generations
from app.core.config import get_settings
from app.core.crypto import CredentialCipher
from app.core.database import create_engine, create_session_factory, session_scope
from app.core.errors import AppError
from app.core.llm import start_import
from app.core.rate_limit import REDIS_TIMEOUTS
from app.services import platform_secrets
from app.services.platforms import (
    SHIPPED_PLATFORMS_FILE,
    read_platform_file,
    upsert_platforms,
)
from app.services.providers import litellm_providers, with_canonical_provider


async def run(path: Path, *, only_missing: bool, replace: bool) -> str:
    def providers() -> frozenset[str]:
        return litellm_providers(start_import().result())

    entries = [with_canonical_provider(entry, providers) for entry in read_platform_file(path)]
    settings = get_settings()
    assert settings.credential_keys is not None
    keys = settings.credential_keys.get_secret_value()
    engine = create_engine(settings.effective_database_url)
    # The change is announced as the service's own are (Redis, else the database), so running
    # workers see it at once.
    redis = Redis.from_url(settings.redis_url, **REDIS_TIMEOUTS) if settings.redis_url else None
    generations = Generations(redis, settings.redis_key_prefix, database=engine)
    try:
        async with session_scope(create_session_factory(engine, generations)) as session:
            report = await upsert_platforms(
                session, entries, only_missing=only_missing, replace=replace
            )
            # A client secret written in the file is stored encrypted, like an admin's.
            await platform_secrets.seal_all(session, CredentialCipher.from_spec(keys))
    finally:
        await engine.dispose()
        if redis is not None:
            await redis.aclose()
    lines = [
        f"  {platform_id}: {', '.join(paths)}" for platform_id, paths in report.changes.items()
    ]
    summary = (
        f"platforms added: {', '.join(report.added) or '-'}; "
        f"updated: {', '.join(report.updated) or '-'}; unchanged: {len(report.unchanged)}"
    )
    return "\n".join([summary, *lines])


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
    parser.add_argument(
        "--replace", action="store_true", help="replace existing platforms whole, not key by key"
    )
    args = parser.parse_args(argv)
    try:
        print(asyncio.run(run(args.file, only_missing=args.only_missing, replace=args.replace)))
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
