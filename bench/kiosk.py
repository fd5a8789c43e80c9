"""Kiosk benchmark, measured in the browser (headless Chromium): time from a press to audio start
for a cached section, and from the second press to silence, against playing a static WAV file
from the same server (the baseline).

    .venv/bin/python bench/kiosk.py [--presses 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import CHROMIUM_ARGS, live_app  # noqa: E402
from server import Config, create_app  # noqa: E402

PRESS = """async (index) => {
  const button = document.querySelectorAll('.region .read-toggle')[index];
  const player = tingwen.player;
  const started = performance.now();
  const playing = new Promise((resolve) => player.addEventListener('playing', resolve, { once: true }));
  button.click();
  await playing;
  const audible = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const pressed = performance.now();
  button.click();
  const silent = player.paused ? performance.now() : await new Promise((resolve) => player.addEventListener('pause', () => resolve(performance.now()), { once: true }));
  return [audible - started, silent - pressed];
}"""

BASELINE = """async (url) => {
  const audio = new Audio();
  const started = performance.now();
  const playing = new Promise((resolve) => audio.addEventListener('playing', resolve, { once: true }));
  audio.src = url + '?n=' + Math.random();  // a fresh request each time, as a press makes
  audio.play();
  await playing;
  const audible = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const pressed = performance.now();
  audio.pause();
  return [audible - started, performance.now() - pressed];
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--tiny", action="store_true", help="two presses: checks that the bench runs (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.presses = 2
    from playwright.sync_api import sync_playwright

    app = create_app(Config(data_dir=Path(tempfile.mkdtemp()), prerender=False))  # the presses make what they play
    port, stop = live_app(app)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(base + "/notice/4")
            regions = page.locator(".region .read-toggle").count()
            for index in range(regions):  # warm the audio cache: the target is for cached sections
                page.evaluate(PRESS, index)
            ours = [page.evaluate(PRESS, i % regions) for i in range(args.presses)]
            static_url = base + page.evaluate("async () => (await (await fetch(document.querySelector('.region').dataset.speech)).json()).sentences[0].audio[0]")
            baseline = [page.evaluate(BASELINE, static_url) for _ in range(args.presses)]
            browser.close()
    finally:
        stop()
    start_ours = statistics.median(r[0] for r in ours)
    start_base = statistics.median(r[0] for r in baseline)
    print(f"{args.presses} presses on cached sections of a notice page (median, max)")
    print(f"static WAV from the same server : start {start_base:6.1f} ms, max {max(r[0] for r in baseline):6.1f} ms (baseline)")
    print(f"read-aloud toggle               : start {start_ours:6.1f} ms, max {max(r[0] for r in ours):6.1f} ms"
          f"  ratio {start_ours / start_base:.2f}x  (target < 300 ms)")
    print(f"second press to silence          : median {statistics.median(r[1] for r in ours):5.1f} ms,"
          f" max {max(r[1] for r in ours):5.1f} ms  (baseline pause {statistics.median(r[1] for r in baseline):.1f} ms)")


if __name__ == "__main__":
    main()
