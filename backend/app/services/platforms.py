"""The platform registry: the shipped config file, and the `platform_configs` rows it seeds.

The database is the truth at run time, so an operator can correct a login recipe or a model
list without a release; the file only seeds it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.cache import changed
from app.core.crypto import CredentialCipher
from app.core.errors import BadRequest, NotFound
from app.models import OAuthAccount, PlatformConfig
from app.schemas.admin import MASKED_SECRET
from app.schemas.platform import PlatformConfigIn
from app.services import platform_changes, platform_secrets
from app.services.calls.account_cache import PLATFORMS
from app.services.oauth import oauth2_client

SHIPPED_PLATFORMS_FILE = Path(__file__).resolve().parents[1] / "data" / "platforms.json"
OAUTH_METHODS = ("oauth", "device")
"""The ways to bind that run on the operator's OAuth client (services/oauth/oauth2_client.py)."""

_entries = TypeAdapter(list[PlatformConfigIn])


def read_platform_file(path: Path = SHIPPED_PLATFORMS_FILE) -> list[PlatformConfigIn]:
    """Parse and validate a platform config file (a JSON list of platform entries)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadRequest(f"Cannot read platform file {path}: {exc}") from exc
    if isinstance(raw, dict):  # a single platform is accepted too
        raw = [raw]
    try:
        return _entries.validate_python(raw)
    except ValidationError as exc:
        raise BadRequest(f"Invalid platform file {path}: {exc}") from exc


@dataclass(frozen=True)
class UpsertReport:
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    changes: dict[str, list[str]] = field(default_factory=dict)
    """For each updated platform, what changed: fields, and keys of its config objects."""


def _row_values(entry: PlatformConfigIn) -> dict[str, Any]:
    return entry.model_dump(mode="json", exclude_none=False)


def _stored_values(row: PlatformConfig) -> dict[str, Any]:
    return {key: getattr(row, key) for key in PlatformConfigIn.model_fields}


def _laid_over(stored: dict[str, Any], entry: PlatformConfigIn) -> dict[str, Any]:
    """The stored config with what the entry gives laid over it, its objects key by key: a file
    that names a few keys of `oauth_config` keeps the others (a login recipe, login methods)."""
    values = dict(stored)
    for key, given in entry.model_dump(mode="json", exclude_unset=True).items():
        current = values.get(key)
        values[key] = {**current, **given} if isinstance(given, dict) and current else given
    try:
        return _row_values(PlatformConfigIn.model_validate(values))
    except ValidationError as exc:
        raise BadRequest(f"{entry.platform_id} merged with the stored config: {exc}") from exc


async def upsert_platforms(
    session: AsyncSession,
    entries: list[PlatformConfigIn],
    *,
    only_missing: bool = False,
    replace: bool = False,
) -> UpsertReport:
    """Add new platforms and update existing ones, merging each config object key by key
    (`replace`: the entry replaces the stored config whole; `only_missing`: existing ones are
    left alone)."""
    existing = {
        row.platform_id: row
        for row in await session.scalars(
            select(PlatformConfig).where(
                PlatformConfig.platform_id.in_([e.platform_id for e in entries])
            )
        )
    }
    report = UpsertReport([], [], [])
    for entry in entries:
        row = existing.get(entry.platform_id)
        if row is None:
            session.add(PlatformConfig(**_row_values(entry)))
            report.added.append(entry.platform_id)
            continue
        stored = _stored_values(row)
        values = _row_values(entry) if replace else _laid_over(stored, entry)
        changes = [] if only_missing else list(platform_changes.changes(stored, values))
        if not changes:
            report.unchanged.append(entry.platform_id)
            continue
        for key, value in values.items():
            setattr(row, key, value)
        report.updated.append(entry.platform_id)
        report.changes[entry.platform_id] = changes
    if report.added or report.updated:
        # Said here, not left to the ORM listener: a script does not load the call path.
        changed(session, PLATFORMS)
    await session.flush()
    return report


async def list_platforms(session: AsyncSession) -> list[PlatformConfig]:
    return list(await session.scalars(select(PlatformConfig).order_by(PlatformConfig.id)))


async def account_counts(session: AsyncSession) -> dict[str, int]:
    """How many accounts (of every user, enabled or not) each platform has: what disabling it
    affects."""
    query = select(OAuthAccount.platform_id, func.count()).group_by(OAuthAccount.platform_id)
    return {platform_id: count for platform_id, count in await session.execute(query)}


async def get_platform(session: AsyncSession, platform_id: str) -> PlatformConfig:
    """An enabled platform by id, read from the database (never refused from a stale cache)."""
    row = await session.scalar(
        select(PlatformConfig).where(PlatformConfig.platform_id == platform_id)
    )
    if row is None:
        raise NotFound(f"Unknown platform {platform_id!r}.")
    if not row.is_enabled:
        raise BadRequest(f"The platform {row.platform_name!r} is disabled by the administrator.")
    return row


def login_methods(config: PlatformConfig, unavailable: dict[str, str] | None = None) -> list[str]:
    """The ways to bind an account on the platform that this service can offer now; not those
    in `unavailable` (method → why, e.g. `browser` without a Chromium)."""
    methods = config.oauth_config.get("login_methods") or ["api_key"]
    # OAuth and device code need the operator's client: offered only once it is configured.
    offered = [
        m
        for m in methods
        if m not in OAUTH_METHODS or not oauth2_client.missing_settings(config.oauth_config, m)
    ]
    return [m for m in offered if m not in (unavailable or {})]


async def save_platform(
    session: AsyncSession, entry: PlatformConfigIn, cipher: CredentialCipher
) -> tuple[PlatformConfig, dict[str, Any]]:
    """Add or replace one platform's config (an administrator's edit); answers the row and what
    changed (for the audit log, `platform_changes.changes`).

    A masked or omitted OAuth client secret keeps the stored one: the API never shows it, so
    an edit of other fields must not erase it. But a kept secret is dropped when an endpoint it
    is sent to moves to another host: whoever moves it must enter the secret again.
    """
    row = await session.scalar(
        select(PlatformConfig).where(PlatformConfig.platform_id == entry.platform_id)
    )
    values = _row_values(entry)
    before = {name: getattr(row, name) for name in values} if row is not None else None
    given_secret = values["oauth_config"].get("client_secret")
    if row is not None and (given_secret is None or given_secret == MASKED_SECRET):
        stored = row.oauth_config.get("client_secret")
        values["oauth_config"] = {
            k: v for k, v in values["oauth_config"].items() if k != "client_secret"
        }
        if stored and not platform_changes.endpoints_moved(
            row.oauth_config, values["oauth_config"]
        ):
            values["oauth_config"]["client_secret"] = stored
    values["oauth_config"] = platform_secrets.sealed(
        cipher, entry.platform_id, values["oauth_config"]
    )
    if row is None:
        row = PlatformConfig(**values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    await session.flush()
    return row, platform_changes.changes(before, values)
