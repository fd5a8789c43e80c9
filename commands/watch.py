"""Following the government website: `tingwen watch --once URL…` reads the list pages once and
puts new articles in the staff console as drafts (or publishes them with
TINGWEN_WATCH_AUTOPUBLISH); without --once it does so every TINGWEN_WATCH_MINUTES."""

from __future__ import annotations

import time

import click

from config import Config, open_watch_state, watch_pass
from watcher.background import run_leased


@click.command()
@click.argument("urls", nargs=-1)
@click.option("--once", is_flag=True, help="One pass over the list pages, then exit.")
@click.pass_context
def watch(ctx: click.Context, urls: tuple[str, ...], once: bool) -> None:
    """Read the website's list pages (URLS, else TINGWEN_WATCH_URLS) and take in new and changed
    articles, showing what happens to each."""
    config: Config = ctx.obj
    chosen = tuple(urls) or config.watched_urls
    if not chosen:
        raise click.ClickException("give the list pages to read, or set TINGWEN_WATCH_URLS")
    bad = [u for u in chosen if not u.startswith(("http://", "https://"))]
    if bad:
        raise click.ClickException(f"not a web address: {bad[0]}")
    while True:
        with open_watch_state(config) as state:
            report = run_leased(state, lambda s: watch_pass(config, s, chosen, progress=click.echo))
        if report is None:
            click.echo("another pass is running (the server's watcher, or another command): nothing done")
        else:
            for line in report.lines():
                click.echo(line)
        if once:
            return
        time.sleep(config.watch_minutes * 60)
