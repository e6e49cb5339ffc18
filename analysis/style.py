"""One look for every figure, and byte-identical files for the same data.

Colours are the Okabe–Ito palette (safe for the common colour-vision deficiencies); past eight
series, line styles and hatches repeat the colours distinguishably.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ParamSpec, TypeVar

import matplotlib
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
FORMATS = ("pdf", "png")
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


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 11.0, height: float = 4.2):
    """A figure and its axes (always a flat list); call it inside a @styled function.

    A bare Figure, not pyplot: no GUI backend, no global figure registry; saving renders
    through Agg (PNG) and the PDF backend, the same on every machine.
    """
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.subplots(nrows, ncols, squeeze=False).ravel().tolist()


def styles() -> Iterator[dict]:
    """Colour and line style pairs for many series: 8 colours, then the next line style."""
    for linestyle, color in itertools.product(LINESTYLES, OKABE_ITO):
        yield {"color": color, "linestyle": linestyle}


def colors(n: int) -> list[str]:
    return [c for c, _ in zip(itertools.cycle(OKABE_ITO), range(n), strict=False)]


def caption(figure: Figure, text: str) -> None:
    """The source-of-categories line every figure carries, under the plots."""
    figure.supxlabel(text, fontsize=7, color="#444444")


def empty_panel(axis, message: str) -> None:
    """A panel that says why it has nothing to show, instead of an empty frame."""
    axis.set_axis_off()
    axis.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=9)


def save(figure: Figure, out_dir: Path, name: str) -> list[Path]:
    """Write the figure as vector PDF and PNG with fixed metadata; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with matplotlib.rc_context(RC):
        for fmt in FORMATS:
            path = out_dir / f"{name}.{fmt}"
            figure.savefig(path, format=fmt, metadata=METADATA[fmt])
            paths.append(path)
    return paths
