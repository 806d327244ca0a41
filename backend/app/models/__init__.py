"""Every table, importable from one place (Alembic's env.py imports `Base` from here)."""

from app.models.account_cooldown import AccountCooldown
from app.models.account_quota_day import AccountQuotaDay
from app.models.account_usage import AccountUsage
from app.models.alert import Alert
from app.models.api_key import ApiKey
from app.models.api_key_usage import ApiKeyUsage
from app.models.audit_event import AuditEvent
from app.models.authorization_session import AuthorizationSession
from app.models.base import Base
from app.models.budget import BudgetHold, BudgetPeriod
from app.models.cache_generation import CacheGeneration
from app.models.job_lease import JobLease
from app.models.model_route import ModelRoute
from app.models.oauth_account import OAuthAccount
from app.models.platform_config import PlatformConfig
from app.models.quota_hold import QuotaHold
from app.models.request_log import RequestLog
from app.models.route_usage import RouteUsage
from app.models.stored_response import StoredResponse
from app.models.user import User

__all__ = [
    "AccountCooldown",
    "AccountQuotaDay",
    "AccountUsage",
    "Alert",
    "ApiKey",
    "ApiKeyUsage",
    "AuditEvent",
    "AuthorizationSession",
    "Base",
    "BudgetHold",
    "BudgetPeriod",
    "CacheGeneration",
    "JobLease",
    "ModelRoute",
    "OAuthAccount",
    "PlatformConfig",
    "QuotaHold",
    "RequestLog",
    "RouteUsage",
    "StoredResponse",
    "User",
]
