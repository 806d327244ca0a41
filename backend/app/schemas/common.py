"""The seed's response envelope: `{"code": 200, "message": "success", "data": ...}`."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

DataT = TypeVar("DataT")


class Envelope(BaseModel, Generic[DataT]):
    code: int = 200
    message: str = "success"
    data: DataT


class ErrorEnvelope(BaseModel):
    code: int
    message: str
    data: None = None


def ok(data: DataT) -> Envelope[DataT]:
    return Envelope[DataT](data=data)
