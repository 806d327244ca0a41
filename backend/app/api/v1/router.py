from fastapi import APIRouter

from app.api.errors import ENVELOPE_ERRORS
from app.api.v1 import (
    admin,
    alerts,
    api_keys,
    auth,
    browser_login,
    chat,
    model_routes,
    oauth,
    requests,
    usage,
    user_budgets,
)

api_router = APIRouter(prefix="/api/v1", responses=ENVELOPE_ERRORS)
api_router.include_router(auth.router)
api_router.include_router(api_keys.router)
api_router.include_router(model_routes.router)
api_router.include_router(oauth.router)
api_router.include_router(browser_login.router)
api_router.include_router(chat.router)
api_router.include_router(usage.router)
api_router.include_router(alerts.router)
api_router.include_router(requests.router)
api_router.include_router(admin.router)
api_router.include_router(user_budgets.router)
api_router.include_router(model_routes.admin_router)
api_router.include_router(requests.admin_router)
