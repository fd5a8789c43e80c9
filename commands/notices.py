"""Notices: ingest, list, show, search, withdraw and restore."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from commands.common import open_store
from content.errors import IngestError, NoticeNotFound
from content.ingest import SourceFormat, expand, parse_all
from content.outline import outline, pad


@click.command(name="ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in SourceFormat]),
    default=SourceFormat.AUTO.value,
    show_default=True,
    help="Source format; auto tells list-page dumps, single notices as text and HTML pages apart.",
)
@click.option("--issuer", help="Issuing organ for sources that do not name one (list-page dumps).")
@click.pass_context
def ingest_command(ctx: click.Context, paths: tuple[Path, ...], fmt: str, issuer: str | None) -> None:
    """Load notices from files or folders (all or nothing: a bad file stores nothing)."""
    try:
        files = expand(paths)
        with click.progressbar(length=len(files), label="reading", file=sys.stderr) as bar:
            parsed = parse_all(files, SourceFormat(fmt), issuer, on_file=lambda _: bar.update(1))
        with open_store(ctx) as store, click.progressbar(length=len(parsed), label="storing", file=sys.stderr) as bar:
            saved = store.save(parsed, progress=lambda _: bar.update(1))
    except IngestError as error:
        raise click.ClickException(f"{error}\nnothing was stored from this run") from None
    click.echo(
        f"{saved.total} notices from {len(files)} file(s): "
        f"{saved.added} added, {saved.updated} updated, {saved.unchanged} unchanged"
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array with every field and section.")
@click.pass_context
def notices(ctx: click.Context, as_json: bool) -> None:
    """List every notice, newest first."""
    with open_store(ctx) as store:
        found = store.latest(withdrawn=True)
    if as_json:
        click.echo(json.dumps([n.to_json() for n in found], ensure_ascii=False, indent=2))
        return
    click.echo(f"{'ID':>4}  {'日期':<10}  {'文号':<16}  标题")
    for notice in found:
        day = notice.sort_date.isoformat() if notice.sort_date else "-"
        state = "（已撤回）" if notice.withdrawn else ""
        click.echo(f"{notice.id:>4}  {day:<10}  {pad(notice.doc_number or '-', 16)}  {notice.spoken_title}{state}")


@click.command()
@click.argument("notice_id", type=int)
@click.pass_context
def withdraw(ctx: click.Context, notice_id: int) -> None:
    """Take a notice off the phone menu, the kiosk and search at once (it stays stored)."""
    _set_withdrawn(ctx, notice_id, True)


@click.command()
@click.argument("notice_id", type=int)
@click.pass_context
def restore(ctx: click.Context, notice_id: int) -> None:
    """Put a withdrawn notice back on the phone menu, the kiosk and search."""
    _set_withdrawn(ctx, notice_id, False)


def _set_withdrawn(ctx: click.Context, notice_id: int, withdrawn: bool) -> None:
    try:
        with open_store(ctx) as store:
            notice = store.set_withdrawn(notice_id, withdrawn)
    except NoticeNotFound as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{notice.id}  {notice.spoken_title}: {'withdrawn' if withdrawn else 'restored'}")


@click.command()
@click.argument("notice_id", type=int)
@click.pass_context
def show(ctx: click.Context, notice_id: int) -> None:
    """Print one notice as an indented outline."""
    try:
        with open_store(ctx) as store:
            notice = store.get(notice_id)
    except NoticeNotFound as error:
        raise click.ClickException(str(error)) from None
    click.echo(outline(notice))


@click.command()
@click.argument("query")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.pass_context
def search(ctx: click.Context, query: str, as_json: bool, limit: int) -> None:
    """Find notices by words in their titles and text, best match first."""
    with open_store(ctx) as store:
        hits = store.search(query, limit=limit)
    if as_json:
        click.echo(json.dumps([h.notice.to_json() | {"score": h.score} for h in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo(f"no notice mentions {query!r}")
    for hit in hits:
        click.echo(f"{hit.notice.id:>4}  {hit.score:7.2f}  {hit.notice.spoken_title}")
