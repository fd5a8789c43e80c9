"""Accessibility floors of the kiosk, checked in Chromium: axe-core at WCAG 2.2 AA at 100% and
200% zoom, target sizes, text sizes and contrast; screenshots kept as test artifacts."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import ARTIFACTS

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PAGES = {"home": "/", "notice": "/notice/4"}

CONTRAST = """(selector) => {
  const lum = (rgb) => { const c = rgb.match(/\\d+/g).slice(0, 3).map(Number).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
  const el = document.querySelector(selector); const s = getComputedStyle(el);
  let bg = s.backgroundColor, node = el;
  while (bg === 'rgba(0, 0, 0, 0)' && node.parentElement) { node = node.parentElement; bg = getComputedStyle(node).backgroundColor; }
  const [a, b] = [lum(s.color), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


@pytest.mark.parametrize("zoom", [1, 2], ids=["100%", "200%"])
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_violations(browser, kiosk, name, zoom):
    # 200% zoom: half the CSS viewport at twice the pixel density, as the browser's zoom does
    context = browser.new_context(viewport={"width": 1080 // zoom, "height": 1600 // zoom}, device_scale_factor=zoom, locale="zh-CN")
    page = context.new_page()
    page.goto(kiosk + PAGES[name])
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    violations = [(v["id"], v["help"], len(v["nodes"])) for v in results.response["violations"]]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{zoom * 100}pct.png"), full_page=True)
    context.close()
    assert violations == []


def test_floors_on_the_notice_page(page, kiosk):
    page.goto(kiosk + "/notice/4")
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    body_px = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_px >= 18
    sizes = page.eval_on_selector_all(
        "button, a.big, select, input",
        "els => els.filter(e => e.offsetParent !== null).map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })",
    )  # visible targets (the idle dialog's button is hidden until needed)
    assert sizes and all(w >= 60 and h >= 60 for w, h in sizes), sizes
    assert page.evaluate(CONTRAST, ".region-text p") >= 7
    assert page.evaluate(CONTRAST, ".meta") >= 7
    page.click("#contrast")
    assert page.evaluate(CONTRAST, ".region-text p") >= 7
    page.click("#contrast")
    # large-type mode: body text of at least 30 px
    page.click("#large-type")
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") >= 30
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "notice-large-type.png"))
    page.click("#large-type")


def test_highlight_contrast(page, kiosk):
    page.goto(kiosk + "/notice/4")
    page.locator(".region .read-toggle").nth(1).click()
    page.wait_for_selector(".sentence.reading", timeout=10_000)
    assert page.evaluate(CONTRAST, ".sentence.reading") >= 3
    page.locator(".region .read-toggle").nth(1).click()


def test_no_outside_resources(page, kiosk):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(kiosk + "/")
    page.goto(kiosk + "/notice/4")
    assert requested and all(url.startswith(kiosk) for url in requested)
    html = page.content()
    assert "@import" not in html and "fonts.googleapis" not in html


def test_focus_is_visible(page, kiosk):
    page.goto(kiosk + "/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
