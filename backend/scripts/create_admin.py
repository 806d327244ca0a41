"""Create an administrator, or make an existing user one: `python scripts/create_admin.py NAME`.

The password is read from the terminal (or, without one, from the first line of standard
input), never from the command line, where other users of the machine could see it. An existing
user keeps their password and becomes an administrator.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.config import get_settings
from app.core.database import create_engine, create_session_factory, session_scope
from app.core.errors import AppError
from app.services import users


def read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password for the administrator: ")
    return sys.stdin.readline().rstrip("\n")


async def run(username: str) -> int:
    engine = create_engine(get_settings().effective_database_url)
    factory = create_session_factory(engine)
    try:
        async with session_scope(factory) as session:
            existing = await users.get_by_username(session, username)
            if existing is not None:
                await users.make_admin(session, existing)
                print(f"{existing.username} is now an administrator")
                return 0
        password = read_password()
        async with session_scope(factory) as session:
            user = await users.create_admin(session, username, password)
            print(f"created the administrator {user.username}")
        return 0
    except AppError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username")
    sys.exit(asyncio.run(run(parser.parse_args().username)))
