"""DESIGN.md's one-way imports hold in every module: content and speech know nothing of each
other or of the front ends (both may use textrules, which imports nothing of ours); the front ends (ivr, kiosk, staff, feed) never import each other; nothing
imports server.py, the composition root, nor its settings (config.py) and commands (commands/)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION = {"server", "config", "commands"}
FRONT_ENDS = {"ivr", "kiosk", "staff", "feed"}
FORBIDDEN = {
    "textrules": {"content", "speech"} | FRONT_ENDS | COMPOSITION,  # written Chinese's rules: imports nothing of ours
    "content": {"speech", "ivr", "kiosk", "staff", "feed"} | COMPOSITION,
    "speech": {"content", "ivr", "kiosk", "staff", "feed"} | COMPOSITION,
    "ivr": {"kiosk", "staff", "feed", "watcher"} | COMPOSITION,
    "kiosk": {"ivr", "staff", "feed", "watcher"} | COMPOSITION,
    "staff": {"ivr", "kiosk", "feed", "watcher"} | COMPOSITION,
    "feed": {"ivr", "kiosk", "staff", "watcher"} | COMPOSITION,
    "watcher": {"speech", "ivr", "kiosk", "staff", "feed"} | COMPOSITION,  # the website's notices: content alone
    "monitoring": {"textrules", "content", "speech", "ivr", "kiosk", "staff", "feed", "watcher"} | COMPOSITION,  # a leaf
    "commands": {"server"},
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


def test_the_settings_import_neither_the_app_nor_the_commands():
    assert imported(ROOT / "config.py") & {"server", "commands"} == set()
