"""Alerts as the API and the webhook show them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

AlertKind = Literal["account_expired", "success_rate_low", "accounts_exhausted", "budget_reached"]
AlertState = Literal["open", "resolved"]


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: AlertKind
    platform_id: str | None
    user_id: int | None
    """None for a platform-wide alert."""
    account_id: int | None
    message: str
    created_at: datetime
    resolved_at: datetime | None
    """None while the condition lasts."""


class AlertEvent(BaseModel):
    """The webhook's JSON body: one alert raised or resolved."""

    event: Literal["alert.raised", "alert.resolved"]
    alert: AlertOut
