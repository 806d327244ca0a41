"""Users: registration, sign-in, and resolving the user a verified token names."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import BadRequest, Conflict, Forbidden, Unauthorized
from app.core.rate_limit import RateLimiter
from app.core.security import hash_password, verify_password
from app.models import OAuthAccount, User
from app.schemas.admin import UserSummary
from app.schemas.auth import MIN_PASSWORD_LENGTH
from app.services import audit, usernames
from app.services.signin_throttle import SignInThrottle

INVALID_SIGN_IN = "Wrong user name or password."


async def register(session: AsyncSession, username: str, password: str) -> User:
    """Create a user; the very first user of the service becomes its admin."""
    user = await _create(session, username, password)
    await take_admin_seat_if_free(session, user)
    audit.record(session, "user.register", user_id=user.id, target=f"user:{user.username}")
    return user


async def create_admin(session: AsyncSession, username: str, password: str) -> User:
    """An administrator made by the operator (`scripts/create_admin.py`)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    user = await _create(session, username, password)
    await make_admin(session, user)
    return user


async def make_admin(session: AsyncSession, user: User) -> None:
    if not await take_admin_seat_if_free(session, user):
        user.is_admin = True
    audit.record(session, "user.make_admin", user_id=None, target=f"user:{user.username}")


async def _create(session: AsyncSession, username: str, password: str) -> User:
    username = usernames.normalise(username)
    await _refuse_taken_or_confusable(session, username)
    user = User(username=username, password_hash=await hash_password(password), is_admin=False)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same name
        raise Conflict(f"The user name {username!r} is taken.", code="username_taken") from exc
    return user


async def _refuse_taken_or_confusable(session: AsyncSession, username: str) -> None:
    wanted = usernames.skeleton(username)
    for existing in await session.scalars(select(User.username)):
        if usernames.skeleton(existing) == wanted:
            raise Conflict(
                f"The user name {username!r} is taken or looks like one that is.",
                code="username_taken",
            )


async def admin_seat_free(session: AsyncSession) -> bool:
    """No user holds the administrator's seat: the next registration takes it."""
    return await session.scalar(select(User.id).where(User.admin_seat.is_(True))) is None


async def take_admin_seat_if_free(session: AsyncSession, user: User) -> bool:
    """Make `user` the administrator if no user holds the seat yet.

    The seat is a unique column: of any number of concurrent registrations on an empty
    database, exactly one write succeeds (the others wait for it, then fail), whatever the
    database's isolation level.
    """
    try:
        async with session.begin_nested():
            await session.execute(
                update(User)
                .where(User.id == user.id)
                .values(admin_seat=True, is_admin=True)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        return False
    await session.refresh(user)
    return True


async def sign_in(
    session: AsyncSession,
    limiter: RateLimiter,
    settings: Settings,
    username: str,
    password: str,
    client: str,
) -> User:
    """`authenticate`, refusing with 429 while the name or the address must wait
    (signin_throttle)."""
    throttle = SignInThrottle(limiter, settings, usernames.normalise(username), client)
    await throttle.check(session)
    try:
        user = await authenticate(session, username, password)
    except Unauthorized:
        await throttle.failed()
        await audit.record_separately(
            session, "user.sign_in", user_id=None, target=f"user:{username[:64]}"
        )
        raise
    audit.record(session, "user.sign_in", user_id=user.id, target=f"user:{user.username}")
    return user


async def authenticate(session: AsyncSession, username: str, password: str) -> User:
    user = await get_by_username(session, usernames.normalise(username))
    valid = await verify_password(user.password_hash if user else None, password)
    if user is None or not valid:
        raise Unauthorized(INVALID_SIGN_IN, code="invalid_sign_in")
    if not user.is_active:
        raise Forbidden("This user is disabled.")
    return user


async def get_by_username(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def resolve_subject(session: AsyncSession, subject: str, *, provision: bool) -> User:
    """The user a verified token's `sub` names, created on first sight when provisioning is on."""
    user = await get_by_username(session, subject)
    if user is None and provision and len(subject) <= 64:
        user = User(username=subject, password_hash=None, is_admin=False)
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:  # provisioned concurrently by another request
            await session.rollback()
            user = await get_by_username(session, subject)
    if user is None:
        raise Unauthorized("The token names no user of this service.")
    if not user.is_active:
        raise Forbidden("This user is disabled.")
    return user


async def list_with_account_counts(session: AsyncSession) -> list[UserSummary]:
    counts = (
        select(OAuthAccount.user_id, func.count().label("n"))
        .group_by(OAuthAccount.user_id)
        .subquery()
    )
    rows = await session.execute(
        select(User, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.user_id == User.id)
        .order_by(User.id)
    )
    return [
        UserSummary(
            id=user.id,
            username=user.username,
            is_admin=user.is_admin,
            is_active=user.is_active,
            created_at=user.created_at,
            account_count=count,
            limits=user.limits,
        )
        for user, count in rows
    ]
