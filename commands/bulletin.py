"""The daily phone bulletin: its subscribers, and a run that calls them."""

from __future__ import annotations

import json

import click

from config import Config, hall_day, open_subscriber_list
from content.store import NoticeStore
from ivr.bulletin import BulletinRun, TwilioDialer
from ivr.numbers import dialable, masked_number


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Counts as JSON.")
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), help="Also each day's calls from this day (in TINGWEN_TIMEZONE).")
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), help="Last day of those (default: today).")
@click.pass_context
def subscribers(ctx: click.Context, as_json: bool, since, until) -> None:
    """How many numbers get the daily phone bulletin, how many are paused, today's calls (and
    each day's, with --from/--to: the staff console's figures)."""
    if ctx.invoked_subcommand is not None:
        return
    config: Config = ctx.obj
    today = hall_day(config)
    period = None
    if since or until:
        period = ((since or until).date().isoformat(), until.date().isoformat() if until else today)
    with open_subscriber_list(config) as store:
        counts = store.counts(today)
        days = store.per_day(*period) if period else None
    if as_json:
        click.echo(json.dumps(counts if days is None else {**counts, "per_day": days}))
        return
    click.echo(
        f"{counts['subscribers']} subscriber(s): {counts['active']} active, {counts['paused']} paused "
        f"(no answer for {config.bulletin_pause_days} days in a row)"
    )
    click.echo(
        f"today ({today}): {counts['calls_today']} call(s), {counts['heard_today']} heard, "
        f"{counts['voicemail_today']} message(s) left on answering machines, "
        f"{counts['unanswered_today']} busy or unanswered"
    )
    for day in days or []:
        click.echo(f"  {day['day']}  {day['calls']:>4} call(s), {day['heard']} heard, {day['voicemail']} on machines, "
                   f"{day['unanswered']} busy or unanswered")
    if not config.bulletin_from:
        click.echo("the bulletin is off: set TINGWEN_BULLETIN_FROM (our Twilio number) to offer it on key 8 and call")


def _change_subscriber(config: Config, number: str, change: str, done: str) -> None:
    """Apply the store's `change` (unsubscribe, resume) to NUMBER; say `done` with the number masked."""
    found = dialable(number)
    if found is None:
        raise click.BadParameter(f"{number!r} is not a phone number in E.164 form (+8613800000000)")
    with open_subscriber_list(config) as store:
        if not getattr(store, change)(found):
            raise click.ClickException(f"{masked_number(found)} does not get the daily bulletin")
    click.echo(done.format(number=masked_number(found)))


@subscribers.command(name="remove")
@click.argument("number")
@click.pass_context
def subscribers_remove(ctx: click.Context, number: str) -> None:
    """Take NUMBER off the daily bulletin (with its call history)."""
    _change_subscriber(ctx.obj, number, "unsubscribe", "removed {number}: no more bulletin calls")


@subscribers.command(name="resume")
@click.argument("number")
@click.pass_context
def subscribers_resume(ctx: click.Context, number: str) -> None:
    """Call a paused NUMBER again (it stopped answering for several days)."""
    _change_subscriber(ctx.obj, number, "resume", "{number} will be called again")


@click.command()
@click.pass_context
def bulletin(ctx: click.Context) -> None:
    """Call the subscribers who have new notices, once a day, inside TINGWEN_BULLETIN_WINDOW
    (run it from a timer every quarter of an hour; a run outside the window calls nobody)."""
    config: Config = ctx.obj
    settings = config.bulletin
    problems = settings.problems()
    if problems:
        raise click.UsageError("the bulletin cannot run: " + "; ".join(problems))
    with open_subscriber_list(config) as store, NoticeStore(config.db_path, busy_seconds=config.busy_seconds) as notices:
        report = BulletinRun(store, notices.published_since, TwilioDialer(settings), settings).run()
    for line in report.lines():
        click.echo(line)
    if report.stopped:
        raise click.ClickException(report.stopped)
