"""Requests and answers of /api/v1/auth."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

MIN_PASSWORD_LENGTH = 8


def _nfkc(value: object) -> object:
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


# NFKC first, so that the rules below judge the name as it is stored.
Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=64, pattern=r"^[\w.@+-]+$"),
    BeforeValidator(_nfkc),
]
Password = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=256)]


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username = Field(description="3–64 letters, digits or . @ + - _")
    password: Password = Field(description="at least 8 characters")


class LoginCredentials(BaseModel):
    """Sign-in accepts any strings: a wrong one is a 401, not a validation error."""

    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, StringConstraints(max_length=64)]
    password: Annotated[str, StringConstraints(max_length=256)]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int


class RegistrationOut(BaseModel):
    open: bool
    """`POST /register` accepts new users (ALLOW_REGISTRATION)."""
    becomes_admin: bool
    """The next user to register becomes the administrator: no user is one yet."""


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    is_admin: bool
    created_at: datetime
