"""The layering rule every service keeps (docs: "Layering: one rule in every service"), checked on the source.

`api.py` is HTTP only and reaches data through the service layer; use cases (`service.py`, `errors.py`) know
nothing of HTTP; SQL lives in `repository.py` (with `models.py` and migrations); advisory-lock SQL and the
pagination cursor codec exist once, in `shared/`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for d in ("services", "shared", "bench") for p in (ROOT / d).rglob("*.py"))
SERVICE_MODULES = sorted(p for p in (ROOT / "services").rglob("*.py") if "migrations" not in p.parts)
# Typing and exception classes are not SQL.
SQLALCHEMY_ALLOWED = ("sqlalchemy.ext.asyncio", "sqlalchemy.engine", "sqlalchemy.exc")
HTTP_MODULES = ("fastapi", "starlette", "shared.web.problems")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _imports_any(imports: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(i for i in imports if any(i == p or i.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("path", [p for p in SERVICE_MODULES if p.name in ("service.py", "errors.py")], ids=_rel)
def test_use_cases_raise_domain_errors_not_http_ones(path):
    assert _imports_any(_imports(path), HTTP_MODULES) == []


@pytest.mark.parametrize("path", [p for p in SERVICE_MODULES if p.name == "api.py"], ids=_rel)
def test_api_modules_reach_data_only_through_the_service_layer(path):
    imports = _imports(path)
    assert [i for i in imports if i.split(".")[-1] in ("repository", "repo")] == []
    assert [i for i in _imports_any(imports, ("sqlalchemy",)) if not i.startswith(SQLALCHEMY_ALLOWED)] == []


def test_sql_is_written_only_in_repositories_models_and_migrations():
    writers = [_rel(p) for p in SERVICE_MODULES if p.name not in ("repository.py", "models.py")
               and any(not i.startswith(SQLALCHEMY_ALLOWED) for i in _imports_any(_imports(p), ("sqlalchemy",)))]
    assert writers == []


def test_advisory_lock_sql_is_only_in_shared_db_locks():
    writers = [_rel(p) for p in SOURCES if "pg_advisory" in p.read_text() or "pg_try_advisory" in p.read_text()]
    assert writers == ["shared/db/locks.py"]


def test_one_pagination_cursor_codec():
    codecs = [_rel(p) for p in SOURCES
              if "cursor" in p.read_text().lower() and "urlsafe_b64decode" in p.read_text()]
    assert codecs == ["shared/web/pagination.py"]
