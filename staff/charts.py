"""Charts for the staff console as SVG, drawn on our own server with matplotlib (no script or
font from elsewhere); every chart is shown beside a table of the same figures."""

from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

matplotlib.rcParams.update(
    {
        "font.sans-serif": ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK", "DejaVu Sans"],
        "svg.fonttype": "none",  # text stays text: the page's own font, readable and searchable
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 13,
    }
)
_lock = threading.Lock()  # pyplot keeps global state
COLOUR = "#1f4e79"  # 8.6:1 against white


def bar_chart(labels: list[str], values: list[float], title: str, horizontal: bool = False) -> str:
    """An SVG bar chart (an <svg> element), titled for screen readers too."""
    with _lock:
        height = max(2.4, 0.45 * len(labels) + 1.2) if horizontal else 3.6
        figure, axes = plt.subplots(figsize=(8, height))
        try:
            if not labels:
                axes.text(0.5, 0.5, "暂无数据", ha="center", va="center", transform=axes.transAxes)
                axes.set_axis_off()
            elif horizontal:
                axes.barh(range(len(labels)), values, color=COLOUR)
                axes.set_yticks(range(len(labels)), [_short(label) for label in labels])
                axes.invert_yaxis()
            else:
                axes.bar(range(len(labels)), values, color=COLOUR)
                axes.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center")
            (axes.xaxis if horizontal else axes.yaxis).set_major_locator(MaxNLocator(integer=True))  # counts
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
