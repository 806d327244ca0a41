"""Every table, importable from one place (Alembic's env.py imports `Base` from here)."""

from app.models.authorization_session import AuthorizationSession
from app.models.base import Base
from app.models.oauth_account import OAuthAccount
from app.models.platform_config import PlatformConfig
from app.models.user import User

__all__ = ["AuthorizationSession", "Base", "OAuthAccount", "PlatformConfig", "User"]
