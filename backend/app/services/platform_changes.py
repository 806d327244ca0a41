"""What an administrator's edit of a platform changes, for the audit log; and the rule that a
kept OAuth client secret never follows its endpoints to another host.

Every changed field is listed as `{"old": …, "new": …}`, the settings inside `oauth_config`,
`litellm_config`, `quota_config` and `pricing` one by one (`litellm_config.api_base`); a secret
is listed as `"changed"`, never with a value.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

CONFIG_FIELDS = ("oauth_config", "litellm_config", "quota_config", "pricing")
PLAIN_FIELDS = ("platform_name", "description", "is_enabled")
SECRET_SETTINGS = frozenset({"client_secret", "api_key", "secret_key", "password"})
# The endpoints a kept client secret is sent to.
SECRET_ENDPOINTS = ("token_endpoint", "authorization_endpoint", "device_authorization_endpoint")


def _flatten(values: dict[str, Any]) -> dict[str, Any]:
    flat = {name: values.get(name) for name in PLAIN_FIELDS}
    for field in CONFIG_FIELDS:
        for key, value in (values.get(field) or {}).items():
            flat[f"{field}.{key}"] = value
    return flat


def changes(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    """Each changed field, old → new (a secret only as "changed"); every field for a new one."""
    old, new = _flatten(before or {}), _flatten(after)
    listed: dict[str, Any] = {}
    for name in sorted(old.keys() | new.keys()):
        if old.get(name) == new.get(name):
            continue
        if name.rsplit(".", 1)[-1] in SECRET_SETTINGS:
            listed[name] = "changed"
        else:
            listed[name] = {"old": old.get(name), "new": new.get(name)}
    return listed


def _host(url: object) -> str | None:
    return urlsplit(url).hostname if isinstance(url, str) and url else None


def endpoints_moved(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether any endpoint the client secret is sent to now names another host."""
    return any(_host(before.get(key)) != _host(after.get(key)) for key in SECRET_ENDPOINTS)
