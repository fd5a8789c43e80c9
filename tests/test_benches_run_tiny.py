"""Every bench in bench/ runs at a tiny size, so none can rot (their full runs are in bench/);
the speech benches' figures are also checked for sense."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script, *args):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--tiny", *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


# the benches are the scripts that take --tiny (not their helpers, such as the runtimes' child)
BENCHES = sorted(p.name for p in (ROOT / "bench").glob("*.py") if 'if __name__ == "__main__":' in p.read_text() and "--tiny" in p.read_text())
CHECKED_BELOW = {"tts.py", "phone_reading.py"}


@pytest.mark.parametrize("script", [b for b in BENCHES if b not in CHECKED_BELOW])
def test_every_bench_runs_tiny_and_prints_a_ratio(script):
    out = _run(script)
    ratios = [float(r) for r in re.findall(r"(\d+(?:\.\d+)?)\s*x\b", out)]  # "1.68x", "12.5x"
    assert ratios, f"no ratio against a baseline printed:\n{out[-2000:]}"
    assert all(0 < r < 1e6 for r in ratios), out[-2000:]  # measured, not a zero or a nan


def test_tts_bench_puts_both_voices_side_by_side():
    out = _run("tts.py")
    factors = re.search(r"real-time factor, sentences.*?([\d.]+)\s+([\d.]+)\s*$", out, re.M)
    assert factors, out
    neural, espeak = map(float, factors.groups())
    assert 0 < espeak < neural < 1  # the neural voice is slower, and still faster than real time
    assert re.search(r"first byte via server, median ms.*\d", out)
    load = float(re.search(r"load \+ first phrase \(s\).*?([\d.]+)\s*$", out, re.M).group(1))
    runtime_factor = float(re.search(r"^real-time factor\s+([\d.]+)", out, re.M).group(1))
    assert 0 < load < 10 and 0 < runtime_factor < 1, out  # the bare ONNX models, faster than real time


@pytest.mark.parametrize("voice", ["espeak"])
def test_phone_reading_bench_measures_silence_before_and_after(voice):
    out = _run("phone_reading.py", "--voice", voice)
    ratio = float(re.search(r"now against before: ([\d.]+)x", out).group(1))
    assert 0 < ratio < 1, out  # several sentences a Gather leave less silence
