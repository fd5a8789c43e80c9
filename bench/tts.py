"""Speech-out benchmark: the neural voice and espeak-ng side by side, in one run, against plain
espeak-ng as the baseline.

    .venv/bin/python bench/tts.py            # the whole bundled corpus and every menu prompt
    .venv/bin/python bench/tts.py --tiny     # a few texts (CI runs this so the bench cannot rot)

Each voice is measured in a process of its own (its peak memory is that process's):
- real-time factor (synthesis seconds per second of speech) on the menu prompts and on the
  corpus's sentences (target for the neural voice <= 0.12 on 2 cores),
- first audio of a short prompt once loaded, uncached (target <= 300 ms),
- first byte of an uncached phone prompt through the server: a fresh data folder, POST /ivr/voice,
  GET the first <Play> URL, time to its first byte (target <= 600 ms),
- time to pre-render everything in both formats (target <= 10 min), and peak memory,
- the neural voice's two models run bare on the same phoneme ids by ONNX Runtime (what the
  service uses; one phrase at a time, and as many at once as the service runs) and by
  TensorFlow Lite (what it used before, one at a time behind a lock): load time and real-time
  factor.
  TensorFlow comes from a throwaway environment of the bench's own (made once, about 1 GB, in
  --tflite-env); the service never needs it. --tiny runs the ONNX side only, unless that
  environment already exists.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from content.ingest import ensure_bundled  # noqa: E402
from content.menu import Menu  # noqa: E402
from content.reading import all_sentences  # noqa: E402
from content.store import NoticeStore  # noqa: E402
from speech.cache import AudioCache  # noqa: E402
from speech.engine import VoiceSettings  # noqa: E402
from speech.normalize import normalize  # noqa: E402
from speech.pronounce import to_pinyin  # noqa: E402
from speech.speaker import Speaker  # noqa: E402
from speech.utterances import AudioFormat
from speech.neural import NeuralModel, model_folder, phrases, speed_ratio  # noqa: E402
from speech.voices import VOICES, choose_voice  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from convert_neural_voice import RELEASE, fetch_sources, make_environment  # noqa: E402

TFLITE_RUNTIME = ["tensorflow-cpu==2.18.1", "numpy==2.0.2"]  # the last that ran these models (see DESIGN)
DEFAULT_TFLITE_ENV = Path.home() / ".cache" / "tingwen" / "bench-tflite"
TINY_CHARS = 60  # the longest text --tiny takes

SHORT_PROMPTS = ["请按一到八选择。", "没有听清，请再说一遍。", "已停止朗读。", "按星号键返回。", "感谢您的收听，再见。",
                 "下一部分。", "这是最后一条。", "请按井号键继续。"]  # fmt: skip


def texts(tiny: bool) -> tuple[list[str], list[str]]:
    """The menu's prompts and the notices' sentences, for the bundled notices as stored."""
    with tempfile.TemporaryDirectory() as folder, NoticeStore(Path(folder) / "notices.sqlite3") as store:
        ensure_bundled(store)
        notices = store.latest()
    prompts = [t for t in Menu(notices).prompt_texts() if to_pinyin(normalize(t))]
    sentences = [t for t in all_sentences(notices) if to_pinyin(normalize(t))]
    if tiny:  # six of each, of a typical length (the median sentence has about 40 characters)
        return [t for t in prompts if len(t) <= TINY_CHARS][:6], [t for t in sentences if len(t) <= TINY_CHARS][:6]
    return prompts, sentences


def render_all(speaker: Speaker, items: list[str]) -> tuple[float, float]:
    """(wall seconds, seconds of speech) to render every text in both formats."""
    started = time.perf_counter()
    speech = 0.0
    for text in items:
        for fmt in AudioFormat:
            chunks = list(speaker.render_text(text, fmt))
            if fmt is AudioFormat.WAV:
                speech += sum(c.seconds for c in chunks)
    return time.perf_counter() - started, speech


def first_byte_through_server(voice: str, repeats: int) -> list[float]:
    """Fresh data folders: POST /ivr/voice, then the first byte of its first <Play>."""
    from werkzeug.serving import make_server

    from server import Config, create_app

    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as data:
            app = create_app(Config(data_dir=Path(data), voice=voice, skip_twilio_signature=True, prerender=False))
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            base = f"http://127.0.0.1:{server.server_port}"
            app.config["TINGWEN_IVR"] = dataclasses.replace(app.config["TINGWEN_IVR"], public_url=base)
            form = urllib.parse.urlencode({"CallSid": "CAbench0000000000000000000000000", "From": "+8610000000"}).encode()
            started = time.perf_counter()
            with urllib.request.urlopen(base + "/ivr/voice", data=form) as response:
                twiml = response.read().decode()
            url = twiml.split("<Play>", 1)[1].split("</Play>", 1)[0]
            with urllib.request.urlopen(url) as response:
                response.read(1)
                times.append(time.perf_counter() - started)
            app.extensions["tingwen.speaker"].wait_ahead(600)  # the next call starts on an idle voice
            server.shutdown()
    return times


def measure(voice: str, tiny: bool) -> dict:
    settings = VoiceSettings()
    started = time.perf_counter()
    choice = choose_voice(voice, settings)
    load_seconds = time.perf_counter() - started
    if choice.problem:
        raise SystemExit(f"{voice} cannot load: {choice.problem}")
    prompts, sentences = texts(tiny)
    with tempfile.TemporaryDirectory() as folder:
        speaker = Speaker(AudioCache(Path(folder) / "audio"), settings, engine=choice.engine, fallback=choice.fallback)
        speaker.render("您好。")  # loaded and warm, outside the measurements
        first_audio = []
        for prompt in SHORT_PROMPTS[: 3 if tiny else None]:
            began = time.perf_counter()
            next(speaker.render_text(prompt, AudioFormat.ULAW))
            first_audio.append(time.perf_counter() - began)
        prompt_wall, prompt_speech = render_all(speaker, prompts)
        sentence_wall, sentence_speech = render_all(speaker, sentences)
    first_byte = first_byte_through_server(voice, 1 if tiny else 3)
    return {
        "voice": voice,
        "engine": choice.engine.name,
        "load_s": load_seconds,
        "first_audio_ms": [t * 1000 for t in first_audio],
        "first_byte_ms": [t * 1000 for t in first_byte],
        "prompts": {"texts": len(prompts), "wall_s": prompt_wall, "speech_s": prompt_speech},
        "sentences": {"texts": len(sentences), "wall_s": sentence_wall, "speech_s": sentence_speech},
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def plain_espeak(items: list[str]) -> tuple[float, float]:
    """The baseline: the espeak-ng program itself, one process per text, on our pinyin."""
    import wave

    settings = VoiceSettings()
    speech = 0.0
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        for i, text in enumerate(items):
            out = Path(folder) / f"{i}.wav"
            command = ["espeak-ng", "-v", settings.voice, "-s", str(settings.rate), "-w", str(out), "--", to_pinyin(normalize(text))]
            subprocess.run(command, check=True, capture_output=True)
        wall = time.perf_counter() - started
        for path in Path(folder).glob("*.wav"):
            with wave.open(str(path)) as wav:
                speech += wav.getnframes() / wav.getframerate()
    return wall, speech


def runtime_phrases(items: list[str]) -> list[list]:
    """Every phrase of the texts as [phoneme ids, speed ratio], as the service feeds the models."""
    model = NeuralModel.shared()
    speed = speed_ratio(VoiceSettings().rate)
    return [[model.phoneme_ids(p.syllables), speed] for text in items for p in phrases(to_pinyin(normalize(text)))]


def tflite_environment(folder: Path) -> tuple[str, Path]:
    """(python, model folder) of the throwaway TensorFlow Lite environment, made if missing."""
    python, models = folder / "venv" / "bin" / "python", folder / "models"
    if not (models / "mb_melgan.tflite").is_file():
        print(f"making the TensorFlow Lite environment in {folder} (once, about 1 GB)", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        models.mkdir(parents=True)
        make_environment(folder / "venv", TFLITE_RUNTIME)
        fetch_sources(str(python), models)
    return str(python), models


def compare_runtimes(items: list[str], tflite_env: Path | None) -> list[dict]:
    """The bare models by each runtime, each in a process of its own, on the same phrases."""
    with tempfile.TemporaryDirectory() as folder:
        listed = Path(folder) / "phrases.json"
        listed.write_text(json.dumps(runtime_phrases(items)))
        at_once = ["--at-once", str(NeuralModel.shared().gate.places)]  # as the service runs it
        runs = [("onnx", sys.executable, model_folder(), []), ("onnx", sys.executable, model_folder(), at_once)]
        if tflite_env is not None:
            runs.append(("tflite", *tflite_environment(tflite_env), []))
        results = []
        for runtime, python, models, extra in runs:
            done = subprocess.run([python, str(ROOT / "bench" / "neural_runtimes.py"), runtime, str(models), str(listed), *extra],
                                  capture_output=True, text=True)  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(f"running the models by {runtime} failed:\n{done.stderr[-3000:]}")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="a few texts: checks that the bench runs")
    parser.add_argument("--measure", choices=list(VOICES), help=argparse.SUPPRESS)
    parser.add_argument("--voices", nargs="+", default=list(VOICES), choices=list(VOICES))
    parser.add_argument("--tflite-env", type=Path, default=DEFAULT_TFLITE_ENV, help="the throwaway TensorFlow Lite environment")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.tiny)))
        return
    prompts, sentences = texts(args.tiny)
    base_wall, base_speech = plain_espeak(prompts + sentences)
    results = []
    for voice in args.voices:
        command = [sys.executable, __file__, "--measure", voice] + (["--tiny"] if args.tiny else [])
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"measuring {voice} failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"measured {voice}", flush=True)

    print()
    print(f"bundled corpus: {len(prompts)} menu prompts, {len(sentences)} sentences{' (tiny)' if args.tiny else ''}")
    print(f"baseline, plain espeak-ng on the same pinyin: {base_wall:.1f} s for {base_speech / 60:.1f} min of speech, "
          f"real-time factor {base_wall / base_speech:.3f}")
    header = f"{'':<46}" + "".join(f"{r['voice']:>14}" for r in results)
    print(header)

    def row(label: str, values: list[str]) -> None:
        print(f"{label:<46}" + "".join(f"{v:>14}" for v in values))

    row("engine", [r["engine"] for r in results])
    row("load (s)", [f"{r['load_s']:.1f}" for r in results])
    for part in ("prompts", "sentences"):
        row(f"real-time factor, {part} (target <= 0.12)", [f"{r[part]['wall_s'] / r[part]['speech_s']:.3f}" for r in results])
        row("  ratio to the baseline's", [f"{(r[part]['wall_s'] / r[part]['speech_s']) / (base_wall / base_speech):.1f}x" for r in results])
    row("first audio, short prompt, median ms (<= 300)", [f"{statistics.median(r['first_audio_ms']):.0f}" for r in results])
    row("first audio, short prompt, max ms", [f"{max(r['first_audio_ms']):.0f}" for r in results])
    row("first byte via server, median ms (<= 600)", [f"{statistics.median(r['first_byte_ms']):.0f}" for r in results])
    row("pre-render all, both formats, s (<= 600)", [f"{r['prompts']['wall_s'] + r['sentences']['wall_s']:.0f}" for r in results])
    row("minutes of speech", [f"{(r['prompts']['speech_s'] + r['sentences']['speech_s']) / 60:.1f}" for r in results])
    row("peak memory (MB)", [f"{r['peak_mb']:.0f}" for r in results])

    with_tflite = not args.tiny or (args.tflite_env / "models" / "mb_melgan.tflite").is_file()
    runtimes = compare_runtimes(prompts + sentences, args.tflite_env if with_tflite else None)
    print()
    print(f"the neural voice's models run bare on the same {len(runtime_phrases(prompts + sentences))} phrases "
          f"({RELEASE} models), each runtime in a process of its own:")
    print(f"{'':<46}" + "".join(f"{r['runtime']:>14}" for r in runtimes))
    row("load + first phrase (s) (ONNX goal <= 1)", [f"{r['load_s']:.2f}" for r in runtimes])
    row("real-time factor", [f"{r['wall_s'] / r['speech_s']:.3f}" for r in runtimes])
    row("peak memory of the process (MB)", [f"{r['peak_mb']:.0f}" for r in runtimes])
    if len(runtimes) == 3:
        onnx, service, tflite = runtimes
        factor = lambda r: r["wall_s"] / r["speech_s"]  # noqa: E731
        print(f"ONNX Runtime's real-time factor / TensorFlow Lite's, one phrase at a time: {factor(onnx) / factor(tflite):.2f}x")
        print(f"as the service runs each ({service['runtime']} against TensorFlow Lite behind its lock): "
              f"{factor(service) / factor(tflite):.2f}x (goal <= 1.00)")  # fmt: skip
    else:
        print(f"TensorFlow Lite not measured (--tiny without {args.tflite_env}); a full run makes that environment")


if __name__ == "__main__":
    main()
