"""The seed's response envelope: `{"code": 200, "message": "success", "data": ...}`."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

DataT = TypeVar("DataT")


class Envelope(BaseModel, Generic[DataT]):
    code: int = 200
    message: str = "success"
    data: DataT


class ErrorEnvelope(BaseModel):
    code: int = Field(description="The HTTP status")
    message: str = Field(description="What went wrong, for a person")
    data: None = None
    error_code: str = Field(
        description="What went wrong, for a program: a stable code (README, *Error codes*)",
        examples=["quota_exhausted"],
    )


def ok(data: DataT) -> Envelope[DataT]:
    return Envelope[DataT](data=data)
