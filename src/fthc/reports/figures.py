"""Figures without pyplot: no global backend is chosen at import and no figure is left open."""

from __future__ import annotations

from matplotlib.figure import Figure


def subplots(*args, figsize: tuple[float, float], **kwargs):
    """Like pyplot.subplots, on a standalone Figure (saved with fig.savefig, freed with it)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)
