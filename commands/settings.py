"""`tingwen settings`: every setting with the value in force and where it came from."""

from __future__ import annotations

import json
import os

import click

from config import CONFIG_FILE, SETTINGS, Config, read_config_file, shown_default

SECRET = ("TWILIO_AUTH_TOKEN", "TINGWEN_DATABASE_URL")  # never printed: they open the line or the database


def _source(env: str, file_values: dict) -> str:
    if (os.environ.get(env) or "").strip():
        return "environment"
    return CONFIG_FILE if env.lower() in file_values else "default"


@click.command(name="settings")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON.")
@click.pass_context
def settings_command(ctx: click.Context, as_json: bool) -> None:
    """List every setting: its value in force, where it came from, its default and what it does."""
    config: Config = ctx.obj
    file_values = read_config_file(config.data_dir / CONFIG_FILE)
    rows = []
    for declared in SETTINGS:
        env = declared.metadata["env"]
        value = getattr(config, declared.name)
        if env in SECRET and value:
            value = "(set)"
        rows.append({"name": env, "value": value, "source": _source(env, file_values),
                     "default": shown_default(declared), "help": declared.metadata["help"]})
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        value = "" if row["value"] is None else row["value"]
        click.echo(f"{row['name']}={value}  [{row['source']}; default: {row['default']}]  {row['help']}")
