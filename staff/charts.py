"""Charts for the staff console as SVG, drawn on our own server with matplotlib (no script or
font from elsewhere); every chart is shown beside a table of the same figures."""

from __future__ import annotations

import io
import threading
from functools import cache


@cache
def _pyplot():
    """matplotlib, loaded on the first chart a staff member asks for: it costs every worker
    process about 50 MB and a fifth of a second, and most of them never draw one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams.update(
        {
            "font.sans-serif": ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK", "DejaVu Sans"],
            "svg.fonttype": "none",  # text stays text: the page's own font, readable and searchable
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 13,
        }
    )
    return plt


_lock = threading.Lock()  # pyplot keeps global state
COLOUR = "#1f4e79"  # 8.6:1 against white
SERIES_COLOURS = (COLOUR, "#9c4a00", "#595959")  # blue, brown, grey: each at least 6:1 against white
SERIES_HATCHES = ("", "//", "..")


def bar_chart(labels: list[str], values: list[float], title: str, horizontal: bool = False) -> str:
    """An SVG bar chart (an <svg> element), titled for screen readers too."""

    def draw(axes) -> None:
        if horizontal:
            axes.barh(range(len(labels)), values, color=COLOUR)
            axes.set_yticks(range(len(labels)), [_short(label) for label in labels])
            axes.invert_yaxis()
        else:
            axes.bar(range(len(labels)), values, color=COLOUR)
            _day_ticks(axes, labels)

    height = max(2.4, 0.45 * len(labels) + 1.2) if horizontal else 3.6
    return _svg(title, height, bool(labels), draw, counts_on_x=horizontal)


def stacked_bar_chart(labels: list[str], series: dict[str, list[float]], title: str) -> str:
    """Bars of several parts stacked (e.g. each day's calls by outcome), with a legend; each
    part has its own colour and hatching, so it reads without colour too."""

    def draw(axes) -> None:
        bottom = [0.0] * len(labels)
        for (name, values), colour, hatch in zip(series.items(), SERIES_COLOURS, SERIES_HATCHES):
            axes.bar(range(len(labels)), values, bottom=bottom, color=colour, hatch=hatch, edgecolor="white", label=name)
            bottom = [b + v for b, v in zip(bottom, values)]
        _day_ticks(axes, labels)
        axes.legend(frameon=False)

    return _svg(title, 3.6, bool(labels), draw, counts_on_x=False)


def _day_ticks(axes, labels: list[str]) -> None:
    crowded = len(labels) > 6
    axes.set_xticks(range(len(labels)), labels, rotation=45 if crowded else 0, ha="right" if crowded else "center")


def _svg(title: str, height: float, has_data: bool, draw, counts_on_x: bool) -> str:
    """Draw with `draw(axes)` (or say there is no data yet) and return the <svg> element."""
    from matplotlib.ticker import MaxNLocator

    with _lock:
        plt = _pyplot()
        figure, axes = plt.subplots(figsize=(8, height))
        try:
            if has_data:
                draw(axes)
            else:
                axes.text(0.5, 0.5, "暂无数据", ha="center", va="center", transform=axes.transAxes)
                axes.set_axis_off()
            (axes.xaxis if counts_on_x else axes.yaxis).set_major_locator(MaxNLocator(integer=True))  # counts
            axes.set_title(title)
            figure.tight_layout()
            out = io.StringIO()
            figure.savefig(out, format="svg")
        finally:
            plt.close(figure)
    svg = out.getvalue()
    svg = svg[svg.index("<svg") :]
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_escape(title)}" ', 1)


def _short(label: str, limit: int = 18) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
