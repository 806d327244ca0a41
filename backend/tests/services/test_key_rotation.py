"""Re-encrypting every stored credential under a new key, then dropping the old one."""

from __future__ import annotations

from sqlalchemy import select

from app.core.crypto import CredentialCipher, DecryptionError, generate_key
from app.core.database import create_engine, create_session_factory, session_scope
from app.models import OAuthAccount, User
from app.services.oauth.credential_store import AccountSecrets, CredentialStore
from app.services.oauth.key_rotation import rotate_all
from tests.conftest import migrate_async


async def test_rotation_moves_every_secret_and_the_old_key_can_go(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'rotate.db'}"
    await migrate_async(url)
    engine = create_engine(url)
    factory = create_session_factory(engine)
    old, new = generate_key(), generate_key()
    old_store = CredentialStore(CredentialCipher.from_spec(f"old:{old}"))
    secrets = [
        AccountSecrets(
            access_token=f"sk-{i:04d}-abcdefgh",
            refresh_token=f"rt-{i}",
            cookies=[{"name": "sid", "value": f"c{i}"}],
            extra={"secret_key": f"sk{i}"},
        )
        for i in range(7)
    ]
    async with session_scope(factory) as session:
        user = User(username="rotator")
        session.add(user)
        await session.flush()
        for i, secret in enumerate(secrets):
            account = OAuthAccount(user_id=user.id, platform_id="qwen", account_name=f"a{i}")
            session.add(account)
            await old_store.store(session, account, secret)

    both = CredentialStore(CredentialCipher.from_spec(f"new:{new},old:{old}"))
    first = await rotate_all(factory, both, batch_size=3)
    assert (first.rotated, first.remaining, first.unreadable) == (7, 0, [])
    again = await rotate_all(factory, both, batch_size=3)
    assert (again.rotated, again.remaining) == (0, 0)

    only_new = CredentialStore(CredentialCipher.from_spec(f"new:{new}"))
    async with factory() as session:
        accounts = list(await session.scalars(select(OAuthAccount).order_by(OAuthAccount.id)))
        assert [only_new.load(a) for a in accounts] == secrets
        try:
            old_store.load(accounts[0])
        except DecryptionError:
            pass
        else:
            raise AssertionError("the old key alone still opened a rotated credential")
    await engine.dispose()


async def test_an_interrupted_rotation_finishes_on_the_next_run(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'partial.db'}"
    await migrate_async(url)
    engine = create_engine(url)
    factory = create_session_factory(engine)
    old, new = generate_key(), generate_key()
    old_store = CredentialStore(CredentialCipher.from_spec(f"old:{old}"))
    async with session_scope(factory) as session:
        user = User(username="partial")
        session.add(user)
        await session.flush()
        for i in range(4):
            account = OAuthAccount(user_id=user.id, platform_id="qwen")
            session.add(account)
            await old_store.store(
                session, account, AccountSecrets(access_token=f"key-{i}-xxxxxxxx")
            )
    both = CredentialStore(CredentialCipher.from_spec(f"new:{new},old:{old}"))
    # Simulate a run stopped after its first batch: rotate only the first two accounts.
    async with session_scope(factory) as session:
        for account in list(await session.scalars(select(OAuthAccount).order_by(OAuthAccount.id)))[
            :2
        ]:
            both.reencrypt(account)
    report = await rotate_all(factory, both)
    assert (report.rotated, report.remaining) == (2, 0)
    await engine.dispose()
