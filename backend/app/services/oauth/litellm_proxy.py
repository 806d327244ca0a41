"""The call path (the seed's module): pick an account, call the platform, answer, record usage,
and fail over. It lives in `app.services.calls.call_path`; this module keeps the seed's layout."""

from app.services.calls.call_path import CallPath

__all__ = ["CallPath"]
