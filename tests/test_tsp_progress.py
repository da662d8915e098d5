"""``combopt tsp``'s progress bar on long runs, and plots of large tours."""

import numpy as np
import pytest
from fake_terminal import Terminal

from combopt import cli
from combopt.cli import tsp as tsp_cli
from combopt.tsp.plot import plot_tour
from combopt.tsp.sources import from_matrix


def _matrix_file(tmp_path, n=9):
    xy = np.random.default_rng(n).uniform(0, 100, (n, 2))
    d = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) + 0.5)
    path = tmp_path / "cities.npy"
    np.save(path, d)
    return str(path)


def _terminal(monkeypatch):
    """Only ``tsp`` registered; stderr replaced (in the test body, after pytest's capture)."""
    monkeypatch.setattr(cli, "SUBCOMMANDS", ("tsp",))
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    return cli.main, terminal


def test_long_runs_show_the_best_length_on_a_terminal(tmp_path, monkeypatch):
    pytest.importorskip("tqdm")
    main, terminal = _terminal(monkeypatch)
    monkeypatch.setattr(tsp_cli, "LONG_RUN", 0.2)  # stands for the 10 s threshold
    assert main(["tsp", _matrix_file(tmp_path), "--time-limit", "0.3", "--seed", "1"]) == 0
    assert "best length=" in terminal.text and "cities.npy" in terminal.text


def test_short_runs_stay_quiet(tmp_path, monkeypatch):
    main, terminal = _terminal(monkeypatch)
    assert main(["tsp", _matrix_file(tmp_path), "--time-limit", "0.3", "--seed", "1"]) == 0
    assert terminal.text == ""


def test_plot_of_thousands_of_cities_thins_its_lines():
    pytest.importorskip("matplotlib")
    n = 1500
    xy = np.random.default_rng(0).uniform(0, 1000, (n, 2))
    inst = from_matrix(np.zeros((n, n)), coordinates=xy)
    small = from_matrix(np.zeros((6, 6)), coordinates=xy[:6])
    big_ax, small_ax = plot_tour(inst, np.arange(n)), plot_tour(small, np.arange(6))
    tour_line, dots = big_ax.lines
    assert len(tour_line.get_xdata()) == n + 1 and len(dots.get_xdata()) == n
    assert tour_line.get_linewidth() < small_ax.lines[0].get_linewidth()
    assert dots.get_markersize() < small_ax.lines[1].get_markersize()
