"""Running the service: the call summary, backups and staff accounts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from commands.common import open_store
from config import (
    ABBREVIATIONS_FILE, CALLS_DB_FILE, CONFIG_FILE, DB_FILE, PRONUNCIATIONS_FILE, SALT_FILE, STAFF_DB_FILE, SUBSCRIBER_KEY_FILE,
    SUBSCRIBERS_DB_FILE, WATCH_DB_FILE, Config,
)
from content.backup import BackupError, check_backup, make_backup, restore_backup
from content.database import shown
from ivr.callstore import CallStore
from staff.accounts import AccountError, StaffStore

# What `tingwen backup` copies from the data folder: the databases (consistently), and the files
# without which they cannot be read (the caller salt, the subscriber key) or sound as they did.
BACKED_UP_DATABASES = [DB_FILE, CALLS_DB_FILE, STAFF_DB_FILE, SUBSCRIBERS_DB_FILE, WATCH_DB_FILE]
BACKED_UP_FILES = [SALT_FILE, SUBSCRIBER_KEY_FILE, CONFIG_FILE, PRONUNCIATIONS_FILE, ABBREVIATIONS_FILE]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON (the staff console's figures).")
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), help="First day (in TINGWEN_TIMEZONE).")
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (in TINGWEN_TIMEZONE).")
@click.pass_context
def calls(ctx: click.Context, as_json: bool, since, until) -> None:
    """Summarise the phone line: calls per day, average duration, most-listened notices, cancels."""
    config: Config = ctx.obj
    with open_store(ctx) as store:
        titles = {n.id: n.spoken_title for n in store.latest(withdrawn=True)}
    call_store = CallStore.open(config.ivr)
    summary = call_store.summary(titles, config.timezone, since and since.date(), until and until.date())
    call_store.close()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    average = summary["average_duration_s"]
    click.echo(f"calls: {summary['calls']}, average duration: {f'{average:.0f} s' if average is not None else '-'}")
    click.echo(f"callers remembered (place and pace, by salted hash): {summary['remembered_callers']}")
    person = summary["transfers"]
    click.echo(f"a person: {person['asked']} asked, {person['answered']} answered, {person['unanswered']} not answered, "
               f"{person['closed']} outside office hours")
    texts = summary["texts"]
    click.echo(f"notices by text message: {texts.get('sent', 0)} sent, {sum(texts.values()) - texts.get('sent', 0)} not sent "
               f"({', '.join(f'{n} {why}' for why, n in texts.items() if why != 'sent') or 'none'})")
    for day in summary["calls_per_day"]:
        click.echo(f"  {day['day']}  {day['calls']:>5} calls")
    click.echo("most listened:")
    for row in summary["most_listened"]:
        click.echo(f"  {row['calls']:>5}  {row['title'] or row['notice_id']}")
    click.echo("where callers cancel:")
    for row in summary["cancels"]:
        where = f"{row['title'] or '最新通知列表'} {row['path'] or ''}".strip()
        click.echo(f"  {row['count']:>5}  {where}")


@click.command(name="backup")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def backup_command(ctx: click.Context, destination: Path) -> None:
    """Copy the databases (consistently, while the service runs), the caller salt, the
    subscriber key and the settings into DESTINATION, a new folder."""
    config: Config = ctx.obj
    try:
        manifest = make_backup(config.data_dir, destination, BACKED_UP_DATABASES, BACKED_UP_FILES)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up {', '.join(manifest['files'])} to {destination}")
    if config.database_url:
        click.echo(f"the notices, calls, staff accounts and subscribers are in PostgreSQL ({shown(config.database_url)}): back them up with pg_dump")


@click.command(name="restore-backup")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def restore_backup_command(ctx: click.Context, source: Path, yes: bool) -> None:
    """Put the backup in SOURCE back into the data folder (stop the service first); the files it
    replaces are kept in a before-restore-… folder."""
    config: Config = ctx.obj
    try:
        manifest = check_backup(source)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if not yes:
        click.confirm(f"replace {', '.join(manifest['files'])} in {config.data_dir} with the backup of {manifest['made_at']}?", abort=True)
    kept = restore_backup(source, config.data_dir)
    click.echo(f"restored the backup of {manifest['made_at']}; the replaced files are in {kept}")


@click.group(name="staff")
def staff_accounts() -> None:
    """Accounts for the staff console (/staff/)."""


@staff_accounts.command(name="add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input (one line).")
@click.pass_context
def staff_add(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Create the account NAME; its password is read from standard input and kept only as a hash."""
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        with StaffStore(ctx.obj.staff_db) as accounts:
            accounts.add(name, password)
            accounts.record("(command line)", "account added", name=name)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"account {name} added; sign in at /staff/login")


@staff_accounts.command(name="list")
@click.pass_context
def staff_list(ctx: click.Context) -> None:
    """The staff accounts."""
    with StaffStore(ctx.obj.staff_db) as accounts:
        names = accounts.names()
    if not names:
        click.echo("no accounts; add one with: tingwen staff add NAME --password-stdin")
    for name, created in names:
        click.echo(f"{name:<24} {created}")


@staff_accounts.command(name="remove")
@click.argument("name")
@click.pass_context
def staff_remove(ctx: click.Context, name: str) -> None:
    """Remove the account NAME."""
    with StaffStore(ctx.obj.staff_db) as accounts:
        if not accounts.remove(name):
            raise click.ClickException(f"no account {name!r}")
        accounts.record("(command line)", "account removed", name=name)
    click.echo(f"account {name} removed")
