"""Draw a tour over its cities' coordinates with matplotlib (an optional dependency)."""

from __future__ import annotations

import numpy as np

from combopt.tsp.tsplib import TSPInstance, check_tour

__all__ = ["plot_tour", "save_tour_plot"]


def _xy(instance: TSPInstance) -> np.ndarray:
    if instance.coordinates is None:
        raise ValueError(f"{instance.name} has no coordinates to plot")
    xy = instance.coordinates
    # TSPLIB GEO coordinates are (latitude, longitude): longitude goes across.
    return xy[:, ::-1] if instance.edge_weight_type == "GEO" else xy


def plot_tour(instance: TSPInstance, tour, ax=None, *, title: str | None = None,
              labels: bool = False):
    """Draw the closed tour over the cities and return the axes.

    Parameters
    ----------
    instance : TSPInstance
        Must have ``coordinates`` (shape (n, 2)).
    tour : array_like of int, shape (n,)
    ax : matplotlib.axes.Axes, optional
        Drawn into a new figure (no pyplot state) when omitted.
    title : str, optional
        Default: instance name, tour length.
    labels : bool
        Write each city's 1-based TSPLIB number next to it.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from combopt.tsp.sources import from_matrix
    >>> inst = from_matrix([[0, 1, 1], [1, 0, 1], [1, 1, 0]],
    ...                    coordinates=[[0, 0], [1, 0], [0, 1]])
    >>> ax = plot_tour(inst, [0, 1, 2])
    >>> len(ax.lines)
    2
    """
    xy = _xy(instance)
    t = check_tour(tour, instance.n)
    if ax is None:
        from matplotlib.figure import Figure  # the optional "plot" extra, slow to import

        side = 6 if instance.n <= 500 else 9
        ax = Figure(figsize=(side, side)).subplots()
    closed = np.append(t, t[0])
    # Thinner lines and smaller dots as n grows, so a tour of thousands stays legible.
    scale = min(1.0, (200 / instance.n) ** 0.5)
    ax.plot(xy[closed, 0], xy[closed, 1], "-", color="tab:blue", lw=max(0.3, 1.2 * scale))
    ax.plot(xy[:, 0], xy[:, 1], "o", color="tab:red", ms=max(0.5, 4 * scale**1.5))
    if labels:
        for c, (x, y) in enumerate(xy):
            ax.annotate(str(c + 1), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title if title is not None else
                 f"{instance.name}: length {instance.tour_length(t):g}")
    return ax


def save_tour_plot(instance: TSPInstance, tour, path, **kwargs) -> None:
    """Draw the tour (see :func:`plot_tour`) and save it to ``path`` (format from the suffix)."""
    ax = plot_tour(instance, tour, **kwargs)
    ax.figure.savefig(path, dpi=120, bbox_inches="tight")
