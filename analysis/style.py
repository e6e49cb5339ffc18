"""One look for every figure, and byte-identical files for the same data.

Colours are the Okabe–Ito palette (safe for the common colour-vision deficiencies); past eight
series, line styles and hatches repeat the colours distinguishably.
"""

from __future__ import annotations

import functools
import itertools
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import ParamSpec, TypeVar

import matplotlib
import matplotlib.dates as mdates
from matplotlib import ticker
from matplotlib.figure import Figure

P = ParamSpec("P")
R = TypeVar("R")

OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D")
COLUMN_WIDTH = 3.5  # inches: one column of a two-column paper, where the figures must read
CAPTION_SIZE = 6.5
SMALL = 7  # tick labels and legends of column-wide figures
CHAR_WIDTH = 0.6  # average glyph width of the sans-serif font, in em (generous)
# PNG first: its draw lays the figure out, and the PDF reuses that layout (see `save`).
FORMATS = ("png", "pdf")
DPI = 150
# No dates or version strings in the files: the same data must give the same bytes.
METADATA = {
    "pdf": {"CreationDate": None, "Producer": None, "Creator": None},
    "png": {"Software": None},
}

RC = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "svg.hashsalt": "mlissues",
}


def styled(draw: Callable[P, R]) -> Callable[P, R]:
    """Run a figure function under the house style, without touching global rcParams."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.rc_context(RC):
            return draw(*args, **kwargs)

    return wrapper


def styles() -> Iterator[dict]:
    """Colour and line style pairs for many series: 8 colours, then the next line style."""
    for linestyle, color in itertools.product(LINESTYLES, OKABE_ITO):
        yield {"color": color, "linestyle": linestyle}


def colors(n: int) -> list[str]:
    return [c for c, _ in zip(itertools.cycle(OKABE_ITO), range(n), strict=False)]


def _wrapped(text: str, width: float, size: float) -> str:
    return textwrap.fill(text, int(width * 72 / (size * CHAR_WIDTH)))


def caption(figure: Figure, text: str, size: float = 7) -> None:
    """The caption under the plots (source of categories, estimator, tests), wrapped to the
    figure's width so that nothing is clipped."""
    wrapped = _wrapped(text, figure.get_figwidth(), size)
    figure.supxlabel(wrapped, fontsize=size, color="#444444")


Panel = tuple[float, Callable]  # (height in inches, draw(axis))


def column_figure(panels: Sequence[Panel], nothing: str, text: str) -> Figure:
    """A column-wide figure of stacked panels, each drawn by its function, with caption
    `text`. The caller leaves out a panel with nothing to show; only when no panel is left
    does the figure say `nothing`, in words."""
    lines = _wrapped(text, COLUMN_WIDTH, CAPTION_SIZE).count("\n") + 1
    caption_height = lines * CAPTION_SIZE * 1.3 / 72 + 0.1
    heights = [height for height, _ in panels] or [0.8]
    figure = Figure(figsize=(COLUMN_WIDTH, sum(heights) + caption_height), layout="constrained")
    axes = figure.subplots(len(heights), 1, squeeze=False, height_ratios=heights).ravel()
    if not panels:
        empty_panel(axes[0], nothing)
    for axis, (_, draw) in zip(axes, panels, strict=False):
        axis.tick_params(labelsize=SMALL)
        draw(axis)
    caption(figure, text, CAPTION_SIZE)
    return figure


def year_axis(axis) -> None:
    """A time axis labelled by year (month and day only where the span is short)."""
    locator = mdates.AutoDateLocator(minticks=2, maxticks=7)
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def panel_title(axis, text: str) -> None:
    """What the panel shows, in words (the test goes in the caption)."""
    axis.set_title(text, loc="left", fontsize=8, fontweight="bold")


# Durations in days, ticked at lengths people think in (a log axis of 10^k days is not one).
DURATIONS = {
    1 / 1440: "1 min",
    1 / 24: "1 h",
    1: "1 day",
    7: "1 wk",
    30: "1 mo",
    91: "3 mo",
    365: "1 yr",
}
SPAN = (1 / 1440, 1 / 24, 1, 30, 365)  # for axes from minutes to years


def duration_axis(axis, label: str, ticks=tuple(DURATIONS)) -> None:
    """A log x axis of durations in days, ticked in minutes, hours, days, ... (plain text
    labels also draw much faster than the log axis' mathtext)."""
    axis.set_xscale("log")
    axis.xaxis.set_major_locator(ticker.FixedLocator(list(ticks)))
    axis.xaxis.set_major_formatter(ticker.FixedFormatter([DURATIONS[t] for t in ticks]))
    axis.xaxis.set_minor_locator(ticker.NullLocator())
    axis.set_xlabel(label, fontsize=SMALL)


def count_axis(axis, label: str) -> None:
    """A symlog x axis of counts from 0, labelled with plain numbers."""
    axis.set_xscale("symlog", linthresh=1)
    axis.set_xlim(left=0)
    axis.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.xaxis.set_minor_locator(ticker.NullLocator())
    axis.set_xlabel(label, fontsize=SMALL)


def legend(axis, **options) -> None:
    """A small legend for a column-wide figure."""
    axis.legend(fontsize=6, handlelength=1.8, borderaxespad=0.2, **options)


def empty_panel(axis, message: str) -> None:
    """A panel that says why it has nothing to show, instead of an empty frame."""
    axis.set_axis_off()
    axis.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=9)


def save(figure: Figure, out_dir: Path, name: str) -> list[Path]:
    """Write the figure as PNG and vector PDF with fixed metadata; returns the paths.

    The constrained layout is solved once, in the first file's draw, and then frozen: solving
    it again for the second format measures the extent of every text once more, the costliest
    part of a draw, and only moves text by a fraction of a pixel."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    engine = figure.get_layout_engine()
    with matplotlib.rc_context(RC):
        for fmt in FORMATS:
            path = out_dir / f"{name}.{fmt}"
            figure.savefig(path, format=fmt, metadata=METADATA[fmt])
            paths.append(path)
            figure.set_layout_engine("none")
    figure.set_layout_engine(engine)  # the caller's figure as it was given
    return paths
