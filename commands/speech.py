"""How tingwen speaks: normalize, say, voices, prerender."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import click

from commands.common import open_store, speaker_for
from config import Config, listener_texts, make_episodes
from speech.engine import VoiceSettings
from speech.normalize import normalize
from speech.prerender import render_all
from speech.pronounce import explain, load_dictionary, to_pinyin
from speech.utterances import AudioFormat
from speech.voices import VOICES, voice_reports


@click.command(name="normalize")
@click.argument("text")
@click.option("--pinyin", is_flag=True, help="Print the tone-numbered pinyin sent to the engine instead.")
@click.option("--why", is_flag=True, help="With --pinyin: say, word by word, which list or rule chose each reading.")
@click.pass_context
def normalize_command(ctx: click.Context, text: str, pinyin: bool, why: bool) -> None:
    """Print how TEXT is read aloud (no Arabic digits, no Latin letters)."""
    config: Config = ctx.obj
    try:
        load_dictionary(config.pronunciations)  # the hall's own readings, as the service reads
    except ValueError as error:  # names the file and line
        raise click.ClickException(str(error)) from None
    spoken = normalize(text)
    click.echo(to_pinyin(spoken) if pinyin else spoken)
    if pinyin and why:
        for word, syllables, chosen_by in explain(spoken):
            click.echo(f"  {word}\t{syllables}\t{chosen_by}")


@click.command()
@click.argument("text")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in AudioFormat]),
    default=AudioFormat.WAV.value,
    show_default=True,
    help="wav: 16-bit PCM for the kiosk; ulaw: 8 kHz mono mu-law WAV for the phone.",
)
@click.option("--rate", type=click.IntRange(60, 400), help="Words per minute (default: the configured rate).")
@click.option("--voice", type=click.Choice(list(VOICES)), help="The voice (default: TINGWEN_VOICE, else neural).")
@click.pass_context
def say(ctx: click.Context, text: str, out: Path, fmt: str, rate: int | None, voice: str | None) -> None:
    """Speak TEXT into an audio file."""
    speaker = speaker_for(ctx, rate, voice)
    try:
        chunk = speaker.render(text, AudioFormat(fmt))
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(chunk.path, out)
    click.echo(f"{out}: {chunk.seconds:.1f} s, {fmt}, voice {chunk.voice}")


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def voices(ctx: click.Context, as_json: bool) -> None:
    """The voices, whether each can load here, and which one speaks."""
    config: Config = ctx.obj
    reports = voice_reports(config.voice, VoiceSettings(rate=config.speech_rate, volume=config.speech_volume), config.neural_dir)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in reports], ensure_ascii=False, indent=2))
        return
    for report in reports:
        mark = "*" if report.in_use else " "
        state = "loads" if report.loads else f"CANNOT LOAD: {report.problem}"
        click.echo(f"{mark} {report.name:<8} {state}\n    {report.description}")
    if not any(r.in_use for r in reports):
        raise click.ClickException("no voice can speak on this machine")
    if not next(r for r in reports if r.name == config.voice).loads:
        click.echo(f"the configured voice ({config.voice}) cannot load: espeak-ng speaks instead", err=True)


@click.command()
@click.option(
    "--format",
    "formats",
    type=click.Choice([f.value for f in AudioFormat]),
    multiple=True,
    help="Formats to render (default: both).",
)
@click.pass_context
def prerender(ctx: click.Context, formats: tuple[str, ...]) -> None:
    """Render every menu prompt and every sentence of every stored notice into the audio cache,
    then the podcast feed's episodes (with the WAV format)."""
    speaker = speaker_for(ctx)
    chosen = [AudioFormat(f) for f in formats] or list(AudioFormat)
    with open_store(ctx) as store:
        texts = listener_texts(ctx.obj, store)
    with click.progressbar(length=len(texts), label="rendering", file=sys.stderr) as bar:
        rendered = render_all(speaker, texts, chosen, progress=lambda i: bar.update(i - bar.pos))
    click.echo(f"{len(texts)} texts, {rendered} audio chunks ready in {ctx.obj.audio_dir}")
    if AudioFormat.WAV in chosen:
        made = make_episodes(ctx.obj, speaker)
        click.echo(f"podcast feed: {made} episode(s) made in {ctx.obj.episodes_dir}")
