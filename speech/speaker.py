"""The speech-out pipeline: text → spoken form → pinyin → audio chunks, cached, in the format a
front end plays (WAV for the kiosk, 8 kHz mu-law for the phone).

The natural voice takes a tenth of a second or more per sentence, so nothing here has to sit in a
listener's path: a front end can `plan` a text (the audio's names, at once, with a recipe stored
beside the cache) and the audio is made in the background or when its name is fetched
(`audio_file`). A chunk is synthesised once for both formats, and only once however many
requests want it at the same moment, in this process or another (a lock file per chunk).
"""

from __future__ import annotations

import itertools
import logging
import queue
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from monitoring import metrics
from speech.audio import Pcm, level, read_wav, to_phone, wav_problem, with_silence, write_ulaw_wav, write_wav
from speech.cache import AudioCache, cache_key
from speech.chunking import chunk_text, ends_mid_sentence
from speech.engine import (
    DEFAULT_RATE, MAX_RATE, MIN_RATE, Engine, EngineUnavailable, Priority, VoiceSettings, current_priority, synthesis_priority,
)
from speech.exiting import _Synthesis, exiting
from speech.normalize import normalize
from speech.polyphones import warm_up as warm_up_polyphones
from speech.pronounce import load_dictionary, to_pinyin
from speech.utterances import AudioFormat, Planned, Recipe, Utterance, audio_seconds
from speech.words import warm_up as warm_up_words


log = logging.getLogger(__name__)
SENTENCE_PAUSE_MS = 250
BREATH_PAUSE_MS = 60  # after a chunk cut inside a sentence (at a word): the voice goes straight on
SECTION_PAUSE_MS = 700
PACE_STEP_FACTOR = 1.15  # a listener's step slower or faster: the rate divided or multiplied by this
LOUDNESS_STEP_GAIN = 1.6  # a listener's step louder or softer: about 4 dB (peaks held by a soft limiter)
_PREPARED_LIMIT = 20_000  # texts whose chunks and pinyin are remembered
_PIPELINE_VERSION = 3  # bump when a change alters audio for the same text, to retire old cache entries
_AHEAD_LIMIT = 2_000  # planned chunks waiting to be rendered in the background
_PROBE_TEXT = "您好。"  # rendered (once, then cached) to know that some voice can speak
_PROBE_AGAIN_SECONDS = 30.0  # how long the probe's answer is trusted
_DICTIONARY_AGAIN_SECONDS = 1.0  # how often the hall's pronunciations file is looked at
_SPARE_CACHE_BYTES = 64 * 1024 * 1024  # the temporary cache used while the real one takes no files
# No voice reads faster than this many characters a second at the default rate (the neural voice
# reads 3.5, espeak-ng 2.5): audio shorter than that for its text was cut short (an engine that
# stopped early) and is never cached.
_FASTEST_PACE = 7.0


def _is_hash(key: str) -> bool:
    return len(key) == 64 and all(c in "0123456789abcdef" for c in key)


class Speaker:
    def __init__(
        self,
        cache: AudioCache,
        settings: VoiceSettings | None = None,
        engine: Engine | None = None,
        pronunciations: Path | None = None,
        fallback: Engine | None = None,
    ):
        """`engine` speaks (by default espeak-ng through pyttsx3); if it fails on a chunk,
        `fallback` speaks that chunk instead, under the fallback's own cache key."""
        self.settings = settings or VoiceSettings()
        self.pronunciations = pronunciations
        load_dictionary(pronunciations)
        warm_up_words()  # the segmenter that cuts chunks, loaded now rather than in a caller's path
        warm_up_polyphones()  # the context model's weights and dictionaries, likewise
        self._dictionary_checked = time.monotonic()
        if cache.verify is None:
            cache.verify = wav_problem
        self.primary_cache = cache
        self.cache = cache  # the primary, or the spare while the primary takes no files
        self.spare_cache: AudioCache | None = None  # in the temporary folder, made the first time it is needed
        self._spare_lock = threading.Lock()
        if engine is None:
            from speech.voices import ESPEAK, load_engine

            engine = load_engine(ESPEAK, self.settings)
        self.engine = engine
        self.fallback = fallback
        self._prepared: dict[str, tuple[tuple[str, str, str], ...]] = {}
        # (text, format, rate, pause, gain) → its chunks with their cache keys (hashing is most of plan's cost)
        self._named: dict[tuple, tuple[Planned, ...]] = {}
        self.names_version = 0  # moves on when the pronunciations change: a text may get other audio names
        # (priority, arrival, chunk): a turn's first chunk before the rest, whoever planned first
        self._ahead: queue.PriorityQueue[tuple[int, int, Planned]] = queue.PriorityQueue(maxsize=_AHEAD_LIMIT)
        self._ahead_arrivals = itertools.count()
        self._ahead_threads: list[threading.Thread] = []
        self._ahead_lock = threading.Lock()
        self._checked_at: float | None = None  # when can_speak last asked the voice
        self._speaks = False

    # Text → what is said

    def prepare(self, text: str) -> tuple[tuple[str, str, str], ...]:
        """(chunk, spoken form, pinyin) for each chunk of `text` that has something to say.
        Remembered per text: the same prompts and sentences come back on every call."""
        self._follow_pronunciations()
        prepared = self._prepared.get(text)
        if prepared is None:
            prepared = tuple(
                (chunk, spoken, pinyin)
                for chunk in chunk_text(text)
                for spoken in [normalize(chunk)]
                for pinyin in [to_pinyin(spoken)]
                if pinyin
            )
            if len(self._prepared) >= _PREPARED_LIMIT:
                self._prepared.clear()  # made again alike when asked: the names stay
            self._prepared[text] = prepared
        return prepared

    def prepare_ahead(self, texts: list[str]) -> int:
        """Prepare `texts` now (their chunks, spoken forms and pinyin), so that naming their
        audio in a caller's webhook is a look-up: a worker does this before it takes requests.
        Returns how many texts there were."""
        for text in texts:
            self.prepare(text)
        return len(texts)

    def _follow_pronunciations(self) -> None:
        """Staff may change the hall's pronunciations while we run (here or in another worker):
        look at most every second; a change forgets the texts prepared with the old ones, so
        their new audio gets new names and only the audio with the word is made again."""
        if time.monotonic() - self._dictionary_checked >= _DICTIONARY_AGAIN_SECONDS:
            self.refresh_pronunciations()

    def refresh_pronunciations(self) -> bool:
        """Load the hall's pronunciations now if they changed; True if they did."""
        self._dictionary_checked = time.monotonic()
        if load_dictionary(self.pronunciations):
            self._prepared.clear()
            self._named.clear()
            self.names_version += 1
            return True
        return False

    def pinyin(self, text: str) -> str:
        return to_pinyin(normalize(text))

    def recipes(self, text: str, rate: int | None = None, final_pause_ms: int = SECTION_PAUSE_MS, gain: float = 1.0) -> list[Recipe]:
        """A section's text as the recipes of its chunks, in reading order."""
        chunks = self.prepare(text)
        chosen = rate or self.settings.rate
        return [Recipe(chunk, spoken, pinyin, self._pause_after(index, chunks, final_pause_ms), chosen, gain)
                for index, (chunk, spoken, pinyin) in enumerate(chunks)]

    def listener_voice(self, pace: int, loudness: int, base_rate: int | None = None) -> tuple[int, float]:
        """(rate, gain) for a listener `pace` steps slower or faster and `loudness` steps louder
        or softer than the service's own (or `base_rate`): the voice itself speaks slower or
        faster (never resampled), each pace step PACE_STEP_FACTOR, each loudness step
        LOUDNESS_STEP_GAIN."""
        rate = round((base_rate or self.settings.rate) * PACE_STEP_FACTOR**pace)
        return min(max(rate, MIN_RATE), MAX_RATE), LOUDNESS_STEP_GAIN**loudness

    @staticmethod
    def _pause_after(index: int, chunks: tuple[tuple[str, str, str], ...], final_pause_ms: int) -> int:
        if index == len(chunks) - 1:
            return final_pause_ms
        return BREATH_PAUSE_MS if ends_mid_sentence(chunks[index][0]) else SENTENCE_PAUSE_MS

    # Names and files

    def key(self, recipe: Recipe, fmt: AudioFormat, engine: Engine | None = None) -> str:
        """The cache key: the engine, its model, every voice setting, the format and the words."""
        engine = engine or self.engine
        s = self.settings
        model = getattr(engine, "model_id", "")
        volume = s.volume * recipe.gain  # the same key as before for the service's own loudness
        return cache_key(_PIPELINE_VERSION, engine.name, model, s.voice, recipe.rate, volume, fmt, recipe.pause_ms, recipe.pinyin)

    def can_speak(self) -> bool:
        """Whether some voice (the engine or its fallback) speaks: a short probe (its audio is
        cached), asked again at most every half minute."""
        now = time.monotonic()
        if self._checked_at is not None and now - self._checked_at < _PROBE_AGAIN_SECONDS:
            return self._speaks
        if self.cache is not self.primary_cache and self.primary_cache.writable():
            log.warning("audio cache %s takes files again: back to it", self.primary_cache.folder)
            self.cache = self.primary_cache
        try:
            self._spilling(lambda: self.render(_PROBE_TEXT, AudioFormat.WAV))
            self._speaks = True
        except Exception as error:
            log.error("no voice can speak (%s); front ends fall back to their own", error)
            self._speaks = False
        self._checked_at = now
        return self._speaks

    def plan(
        self, text: str, fmt: AudioFormat, rate: int | None = None, final_pause_ms: int = SECTION_PAUSE_MS, first: bool = True,
        gain: float = 1.0, queue: bool = True,
    ) -> list[Planned]:
        """The names the text's audio will have, at once, without synthesising: each missing
        chunk's recipe is stored and the chunk is queued for rendering in the background, in
        order; with `first` (the text a listener hears first) its first chunk goes before every
        chunk anyone else is waiting for. Without `queue` the chunks are only named (a worker's
        start keeps the answers whose audio is made, and queues nothing ahead of callers).
        Raises EngineUnavailable when no voice can speak, so a front end can use its own."""
        if not self.can_speak():
            raise EngineUnavailable("no voice can speak right now")
        planned = self._names(text, fmt, rate, final_pause_ms, gain)
        for index, chunk in enumerate(planned):
            if queue and not self.cache.has(chunk.key, fmt.suffix):
                self._spilling(lambda: self.cache.put_recipe(chunk.key, chunk.recipe.to_json()))
                self._render_ahead(chunk, Priority.FIRST_SOUND if first and index == 0 else Priority.LISTENER)
        return list(planned)

    def _names(self, text: str, fmt: AudioFormat, rate: int | None, final_pause_ms: int, gain: float) -> tuple[Planned, ...]:
        """The text's chunks with their cache keys, remembered as the prepared texts are (and
        forgotten with them): the same prompts are named in every webhook."""
        self._follow_pronunciations()
        memo = (text, fmt, rate, final_pause_ms, gain)
        named = self._named.get(memo)
        if named is None:
            named = tuple(Planned(self.key(recipe, fmt), fmt, recipe) for recipe in self.recipes(text, rate, final_pause_ms, gain))
            if len(self._named) >= _PREPARED_LIMIT:
                self._named.clear()
            self._named[memo] = named
        return named

    def _spilling(self, work):
        """Run `work`; if the audio cache cannot take a file (a full or read-only disk), go on
        with the spare cache in the temporary folder, said loudly once, and run it again there.
        Threads that fail at once share one spare, so nothing one of them names is lost;
        can_speak() moves back when the real cache takes files again."""
        used = self.cache
        try:
            return work()
        except OSError as error:
            if used is not self.primary_cache:
                raise
            with self._spare_lock:
                if self.spare_cache is None:
                    folder = Path(tempfile.mkdtemp(prefix="tingwen-audio-"))
                    self.spare_cache = AudioCache(folder, _SPARE_CACHE_BYTES, wav_problem)
                if self.cache is self.primary_cache:
                    log.error(
                        "audio cache %s cannot take files (%s): using %s until it can",
                        self.primary_cache.folder,
                        error.strerror or error,
                        self.spare_cache.folder,
                    )
                    self.cache = self.spare_cache
            return work()

    def plan_pinyin(self, text: str, pinyin: str, fmt: AudioFormat) -> list[Planned]:
        """As plan, for a word said with the given pinyin rather than the dictionary's (staff
        hear a pronunciation before they save it)."""
        if not self.can_speak():
            raise EngineUnavailable("no voice can speak right now")
        recipe = Recipe(text, normalize(text), pinyin, SENTENCE_PAUSE_MS, self.settings.rate)
        planned = Planned(self.key(recipe, fmt), fmt, recipe)
        if not self.cache.path_for(planned.key, fmt.suffix).exists():
            self._spilling(lambda: self.cache.put_recipe(planned.key, recipe.to_json()))
        return [planned]

    def seconds(self, text: str, fmt: AudioFormat, rate: int | None = None, gain: float = 1.0) -> float:
        """How long the text's audio lasts: measured where it is made, else estimated (3.5
        characters a second), never by synthesising."""
        total = 0.0
        for recipe in self.recipes(text, rate, gain=gain):
            path = self.cache.path_for(self.key(recipe, fmt), fmt.suffix)
            try:
                total += audio_seconds(path, fmt)
            except (OSError, ValueError, EOFError, wave.Error):
                total += len(recipe.spoken) / 3.5 * DEFAULT_RATE / recipe.rate + recipe.pause_ms / 1000
        return total

    def audio_file(self, name: str, fmt: AudioFormat) -> Path | None:
        """The file a front end's audio URL names (`<hash><suffix>`), made now if it was only
        planned, or None. Names are checked to be content hashes, so no other file can be
        reached through them."""
        if not name.endswith(fmt.suffix):
            return None
        key = name[: -len(fmt.suffix)]
        if not _is_hash(key):
            return None
        # the one in use first; the other still holds what was named while it was in use
        caches = [self.cache] + [c for c in (self.primary_cache, self.spare_cache) if c is not None and c is not self.cache]
        for cache in caches:
            path = cache.get(key, fmt.suffix)
            if path is not None:
                return path
        stored = next((r for r in (cache.recipe(key) for cache in caches) if r is not None), None)
        if stored is None:
            return None
        try:
            recipe = Recipe.from_json(stored)
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable recipe for %s; it cannot be made", name)
            return None
        with synthesis_priority(Priority.FIRST_SOUND):  # a request is waiting for this very file
            return self._made(recipe, fmt).path

    # Rendering

    def render(self, text: str, fmt: AudioFormat = AudioFormat.WAV, pause_ms: int = SENTENCE_PAUSE_MS, rate: int | None = None) -> Utterance:
        """One chunk of audio for `text` as it is (prompts, single sentences); cached."""
        spoken = normalize(text)
        pinyin = to_pinyin(spoken)
        if not pinyin:
            raise ValueError(f"nothing to say in {text!r}")
        return self._made(Recipe(text, spoken, pinyin, pause_ms, rate or self.settings.rate), fmt)

    def render_text(
        self, text: str, fmt: AudioFormat = AudioFormat.WAV, final_pause_ms: int = SECTION_PAUSE_MS, rate: int | None = None,
        gain: float = 1.0,
    ) -> Iterator[Utterance]:
        """A section's text as chunks, rendered one at a time so the first can play at once
        (for a listener, its first chunk goes before the rest of anyone's)."""
        for index, recipe in enumerate(self.recipes(text, rate, final_pause_ms, gain)):
            yield self.render_recipe(recipe, fmt, first=index == 0)

    def render_recipe(self, recipe: Recipe, fmt: AudioFormat, first: bool = False) -> Utterance:
        """One chunk, cached; `first`: the first sound of what a listener waits for, made before
        every other chunk waiting for the voice (background work stays background)."""
        if first and current_priority() is not Priority.BACKGROUND:
            with synthesis_priority(Priority.FIRST_SOUND):
                return self._made(recipe, fmt)
        return self._made(recipe, fmt)

    def _made(self, recipe: Recipe, fmt: AudioFormat) -> Utterance:
        """The chunk's audio in `fmt`, from the cache or made now; if the engine fails, the
        fallback engine's (cached under its own key), so a listener never hears silence."""
        engine = self.engine
        try:
            path = self._spilling(lambda: self._cached_or_made(recipe, fmt, engine))
        except Exception as error:
            if self.fallback is None or isinstance(error, OSError) or exiting():  # nothing new starts at exit
                raise
            log.error("%s voice failed on %r (%s); using %s for it", engine.name, recipe.text[:40], error, self.fallback.name)
            metrics.voice_fell_back(engine.name)
            engine = self.fallback
            path = self._spilling(lambda: self._cached_or_made(recipe, fmt, engine))
        return Utterance(recipe.text, recipe.spoken, recipe.pinyin, path, fmt, audio_seconds(path, fmt), engine.name)

    def _cached_or_made(self, recipe: Recipe, fmt: AudioFormat, engine: Engine) -> Path:
        key = self.key(recipe, fmt, engine)
        path = self.cache.get(key, fmt.suffix)
        if path is not None:
            metrics.cache_event("hit")
            return path
        with self.cache.lock(self.key(recipe, AudioFormat.WAV, engine)):  # one render for both formats
            path = self.cache.get(key, fmt.suffix)
            if path is not None:  # another thread or worker made it meanwhile
                metrics.cache_event("hit")
                return path
            metrics.cache_event("miss")
            with _Synthesis.running():  # exiting waits for the files to be written too
                pcm = self._synthesize(recipe, engine)
                for other in AudioFormat:
                    other_key = self.key(recipe, other, engine)
                    if other is fmt or not self.cache.path_for(other_key, other.suffix).exists():
                        self.cache.put(other_key, other.suffix, lambda out, f=other: _write(out, pcm, f))
                    # kept beside the audio: a file damaged or removed later, behind a name
                    # already handed out, is made again when it is asked for
                    self.cache.put_recipe(other_key, recipe.to_json())
            return self.cache.path_for(key, fmt.suffix)

    def _synthesize(self, recipe: Recipe, engine: Engine) -> Pcm:
        settings = replace(self.settings, rate=recipe.rate) if recipe.rate != self.settings.rate else self.settings
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="tingwen-tts-") as folder:
            raw = Path(folder) / "engine.wav"
            engine.synthesize(recipe.pinyin, raw, settings)
            pcm = read_wav(raw)
        if len(pcm.samples):
            metrics.synthesised(engine.name, time.monotonic() - started, len(pcm.samples) / pcm.rate)
        if not len(pcm.samples):
            raise RuntimeError(f"{engine.name} produced no audio for {recipe.text[:40]!r}")
        seconds, least = len(pcm.samples) / pcm.rate, _least_seconds(recipe)
        if seconds < least:
            raise RuntimeError(
                f"{engine.name} made {seconds:.2f} s of audio for {recipe.text[:40]!r} (at least {least:.2f} s): cut short"
            )
        return with_silence(level(pcm, self.settings.volume * recipe.gain), recipe.pause_ms)

    # Rendering ahead, in the background

    def _render_ahead(self, planned: Planned, priority: Priority) -> None:
        with self._ahead_lock:
            # as many renderers as the engine runs syntheses at once (the gate keeps listeners first)
            while len(self._ahead_threads) < max(1, getattr(self.engine, "places", 1)):
                thread = threading.Thread(target=self._ahead_loop, name="tingwen-render-ahead", daemon=True)
                thread.start()
                self._ahead_threads.append(thread)
        try:
            self._ahead.put_nowait((int(priority), next(self._ahead_arrivals), planned))
        except queue.Full:  # far behind: it will be made when it is fetched
            pass

    def _ahead_loop(self) -> None:
        while True:
            priority, _, planned = self._ahead.get()
            if _Synthesis.exiting.is_set():
                self._ahead.task_done()
                continue
            try:
                with synthesis_priority(Priority(priority)):
                    self._made(planned.recipe, planned.format)
            except Exception as error:  # a file system or engine fault (or the process exiting): said, not a traceback
                level = logging.DEBUG if exiting() else logging.ERROR
                log.log(level, "could not render %r ahead (%s); it will be tried again when fetched", planned.recipe.text[:40], error)
            finally:
                self._ahead.task_done()

    def wait_ahead(self, timeout: float = 60.0) -> bool:
        """Wait until the background renders queued so far are done (tests, benches, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._ahead.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


def _least_seconds(recipe: Recipe) -> float:
    """The shortest believable audio for the recipe's words at its rate."""
    characters = sum(1 for c in recipe.spoken if "\u4e00" <= c <= "\u9fff")
    return characters / (_FASTEST_PACE * recipe.rate / DEFAULT_RATE)


def _write(out: Path, pcm: Pcm, fmt: AudioFormat) -> None:
    if fmt is AudioFormat.ULAW:
        write_ulaw_wav(out, to_phone(pcm))
    else:
        write_wav(out, pcm)

