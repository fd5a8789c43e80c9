"""Every setting is declared once (config.py's `setting(...)`): the README documents each one in a
table with the default the code has, names no setting the code lacks, and a bad value is refused
by the setting's own check, named, at start-up."""

import re
from pathlib import Path

import click
import pytest

from config import SETTINGS, Config, shown_default

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
ROW = re.compile(r"^\| `((?:TINGWEN|TWILIO)_[A-Z_]+)` \|.*\| ([^|]*) \|\s*$", re.M)
DOCUMENTED = {name: default.strip() for name, default in ROW.findall(README)}


@pytest.mark.parametrize("declared", SETTINGS, ids=lambda f: f.metadata["env"])
def test_each_setting_has_a_readme_row_with_its_default(declared):
    env = declared.metadata["env"]
    assert env in DOCUMENTED, f"{env} has no row in a README settings table"
    assert DOCUMENTED[env].replace("`", "") == shown_default(declared).replace("`", ""), env


def test_the_readme_documents_no_setting_the_code_lacks():
    declared = {f.metadata["env"] for f in SETTINGS}
    assert set(DOCUMENTED) - declared == set()


def test_each_setting_is_declared_once():
    names = [f.metadata["env"] for f in SETTINGS]
    assert len(names) == len(set(names))
    assert all(f.metadata["help"] for f in SETTINGS)


BAD_VALUES = [
    ("TINGWEN_VOICE", "robot", "use one of"),
    ("TINGWEN_SPEECH_RATE", "20", "between 60 and 400"),
    ("TINGWEN_SPEECH_VOLUME", "5", "between 0.0 and 2.0"),
    ("TINGWEN_MENU_NOTICES", "0", "at least 1"),
    ("TINGWEN_CALL_LOG_DAYS", "-1", "at least 0"),
    ("TINGWEN_PHONE_MODE", "fax", "use one of gather, stream"),
    ("TINGWEN_TIMEZONE", "Mars/Olympus", "not a time zone"),
    ("TINGWEN_BULLETIN_FROM", "12345", "E.164"),
    ("TINGWEN_BULLETIN_WINDOW", "20:00-09:00", "the start must come before the end"),
    ("TINGWEN_BULLETIN_WINDOW", "morning", "HH:MM-HH:MM"),
    ("TINGWEN_DATABASE_URL", "mysql://x", "postgresql://"),
    ("TINGWEN_WORKERS", "0", "at least 1"),
    ("TINGWEN_KIOSK_COUNTDOWN_SECONDS", "5", "at least 20"),
    ("TINGWEN_GATHER_TIMEOUT", "many", "not a valid int"),
]


@pytest.mark.parametrize("env, value, says", BAD_VALUES)
def test_a_bad_value_is_refused_by_name(env, value, says, monkeypatch, tmp_path):
    monkeypatch.setenv(env, value)
    with pytest.raises(click.UsageError) as refused:
        Config.load(tmp_path)
    assert env in refused.value.message and says in refused.value.message


@pytest.mark.parametrize("declared", SETTINGS, ids=lambda f: f.metadata["env"])
def test_a_setting_in_tingwen_toml_is_read(declared, monkeypatch, tmp_path):
    """The file takes the same names in lower case; the default written there reads back as itself."""
    monkeypatch.delenv(declared.metadata["env"], raising=False)
    if declared.default is None:
        return  # nothing to write: unset is the default
    value = declared.default
    literal = ("true" if value else "false") if isinstance(value, bool) else repr(value) if isinstance(value, (int, float)) else f'"{value}"'
    (tmp_path / "tingwen.toml").write_text(f"{declared.metadata['env'].lower()} = {literal}\n", "utf-8")
    assert getattr(Config.load(tmp_path), declared.name) == value


def test_the_settings_command_says_each_value_and_where_it_came_from(monkeypatch, tmp_path):
    import json

    from click.testing import CliRunner

    from server import cli

    (tmp_path / "tingwen.toml").write_text("tingwen_max_misses = 5\n", "utf-8")
    monkeypatch.setenv("TINGWEN_GATHER_TIMEOUT", "11")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "very-secret-token")
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "settings", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert set(rows) == {f.metadata["env"] for f in SETTINGS}
    assert (rows["TINGWEN_GATHER_TIMEOUT"]["value"], rows["TINGWEN_GATHER_TIMEOUT"]["source"]) == (11, "environment")
    assert (rows["TINGWEN_MAX_MISSES"]["value"], rows["TINGWEN_MAX_MISSES"]["source"]) == (5, "tingwen.toml")
    assert (rows["TINGWEN_VOICE"]["source"], rows["TINGWEN_VOICE"]["default"]) == ("default", "neural")
    assert "very-secret-token" not in result.output and rows["TWILIO_AUTH_TOKEN"]["value"] == "(set)"
