"""The tests stay navigable: what test modules share lives in tests/helpers (or a conftest), and
no test module imports from another one."""

from __future__ import annotations

import ast

from tests.conftest import BACKEND_DIR

TESTS = BACKEND_DIR / "tests"


def test_no_test_module_imports_from_another() -> None:
    offenders = []
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_"):
                    offenders.append(f"{path.relative_to(TESTS)}: {name}")
    assert offenders == []
