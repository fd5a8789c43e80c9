"""DESIGN.md's one-way imports hold in every module: content and speech know nothing of each
other or of the front ends; the front ends (ivr, kiosk, staff, feed) never import each other; nothing
imports server.py, the composition root."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "content": {"speech", "ivr", "kiosk", "staff", "feed", "server"},
    "speech": {"content", "ivr", "kiosk", "staff", "feed", "server"},
    "ivr": {"kiosk", "staff", "feed", "server"},
    "kiosk": {"ivr", "staff", "feed", "server"},
    "staff": {"ivr", "kiosk", "feed", "server"},
    "feed": {"ivr", "kiosk", "staff", "server"},
}


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_only_what_the_design_allows(package):
    wrong = {str(p.relative_to(ROOT)): imported(p) & FORBIDDEN[package] for p in (ROOT / package).rglob("*.py")}
    assert {k: v for k, v in wrong.items() if v} == {}
