"""Model names resolve to one platform, or to a clear refusal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.core.errors import BadRequest, NotFound
from app.models import PlatformConfig
from app.services.calls.routing import models_for, resolve


def platform(platform_id: str, *models: str, enabled: bool = True) -> PlatformConfig:
    return PlatformConfig(
        platform_id=platform_id,
        platform_name=platform_id.title(),
        oauth_config={},
        litellm_config={"default_model": models[0], "available_models": list(models)},
        is_enabled=enabled,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


PLATFORMS = {
    "alpha": platform("alpha", "shared-1", "alpha-only"),
    "beta": platform("beta", "shared-1", "beta-only"),
    "off": platform("off", "off-model", enabled=False),
}


def test_platform_slash_model_and_platform_alone():
    assert resolve("alpha/anything-new", None, PLATFORMS, set()).model == "anything-new"
    found = resolve("beta", None, PLATFORMS, set())
    assert (found.platform.platform_id, found.model) == ("beta", "shared-1")


def test_a_plain_name_prefers_the_callers_platforms_and_refuses_ambiguity():
    assert resolve("alpha-only", None, PLATFORMS, set()).platform.platform_id == "alpha"
    assert resolve("shared-1", None, PLATFORMS, {"beta"}).platform.platform_id == "beta"
    with pytest.raises(BadRequest, match="alpha/shared-1, beta/shared-1"):
        resolve("shared-1", None, PLATFORMS, {"alpha", "beta"})
    with pytest.raises(NotFound):
        resolve("nobody-has-it", None, PLATFORMS, {"alpha"})


def test_a_name_no_platform_lists_goes_to_its_familys_platform():
    family = dict(PLATFORMS)
    family["claude"] = platform("claude", "claude-sonnet-4-5")
    family["claude"].litellm_config["model_prefixes"] = ["claude-"]
    found = resolve("claude-opus-5-5", None, family, {"claude"})
    assert (found.platform.platform_id, found.model) == ("claude", "claude-opus-5-5")
    assert resolve("claude-sonnet-4-5", None, family, set()).model == "claude-sonnet-4-5"
    with pytest.raises(NotFound):  # only among the caller's platforms
        resolve("claude-opus-5-5", None, family, {"alpha"})
    with pytest.raises(NotFound):
        resolve("gpt-9", None, family, {"claude"})


def test_the_seeds_platform_field_and_disabled_platforms():
    assert resolve(None, "alpha", PLATFORMS, set()).model == "shared-1"
    assert resolve("alpha/alpha-only", "alpha", PLATFORMS, set()).model == "alpha-only"
    with pytest.raises(BadRequest, match="disabled"):
        resolve("off/off-model", None, PLATFORMS, set())
    with pytest.raises(NotFound):
        resolve("x", "nowhere", PLATFORMS, set())
    with pytest.raises(BadRequest, match="required"):
        resolve(None, None, PLATFORMS, set())


def test_models_lists_prefixed_names_and_unambiguous_plain_ones():
    ids = [entry.id for entry in models_for(PLATFORMS, {"alpha", "beta", "off"})]
    assert "alpha/shared-1" in ids and "beta/shared-1" in ids
    assert "alpha-only" in ids and "beta-only" in ids
    assert "shared-1" not in ids
    assert not any(i.startswith("off/") for i in ids)
