"""Requests and answers of /api/v1/oauth/routes and /api/v1/admin/routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

TargetModel = Annotated[
    str, StringConstraints(min_length=3, max_length=200, pattern=r"^[A-Za-z0-9_-]+/\S+$")
]


class RouteTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: TargetModel
    """`platform/model`."""
    weight: float = Field(default=1, gt=0, le=1_000_000)
    """The target's share under the `weighted` strategy."""


class RouteSave(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: list[RouteTarget] = Field(min_length=1, max_length=50)
    strategy: Literal["ordered", "weighted", "most_remaining"] = "ordered"
    description: Annotated[str, StringConstraints(max_length=500)] = ""


class RouteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    scope: Literal["user", "deployment"]
    strategy: str
    targets: list[RouteTarget]
    description: str
    updated_at: datetime | None = None
    """None: the shipped `free` route, made from the platforms' `free_tier` marks."""


class RouteRemoved(BaseModel):
    name: str
    scope: Literal["user", "deployment"]
