"""What the commands share: the notice store and the speaker, opened from the command's Config."""

from __future__ import annotations

import click

from config import Config, build_speaker
from content.store import NoticeStore
from speech.engine import EngineUnavailable
from speech.speaker import Speaker


def open_store(ctx: click.Context) -> NoticeStore:
    """The notice store; a write waits TINGWEN_BUSY_SECONDS for another (two ingests at once)."""
    config: Config = ctx.obj
    return NoticeStore(config.db_path, busy_seconds=config.busy_seconds)


def speaker_for(ctx: click.Context, rate: int | None = None, voice: str | None = None) -> Speaker:
    """The configured speaker (or with another rate or voice); no voice at all is one line."""
    try:
        return build_speaker(ctx.obj, rate, voice)
    except EngineUnavailable as error:
        raise click.ClickException(str(error)) from None
