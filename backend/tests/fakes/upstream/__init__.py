"""Fake vendor APIs for tests: see app.FakeUpstream, behaviours, errors (vendor error bodies)."""

from . import errors
from .app import Auth, FakeUpstream, Kind, Platform, RecordedRequest
from .behaviours import (
    Behaviour,
    Drop,
    Error,
    ErrorIn200,
    MidStreamError,
    Reply,
    Slow,
    ToolCall,
)

__all__ = [
    "Auth",
    "Behaviour",
    "Drop",
    "Error",
    "ErrorIn200",
    "FakeUpstream",
    "Kind",
    "MidStreamError",
    "Platform",
    "RecordedRequest",
    "Reply",
    "Slow",
    "ToolCall",
    "errors",
]
