"""Domains and Algorithm 1 (discretisation)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from combopt import Domain, discretize, discretize_scaled

finite = st.floats(-1e6, 1e6, allow_nan=False)


def test_values_are_sorted_and_unique():
    assert Domain([1, -1, 0, 1]).values.tolist() == [-1.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "values, message",
    [
        ([], "empty"),
        ([0.0, np.nan], "NaN"),
        ([1.0, np.inf], "NaN or infinite"),
        ([[0, 1]], "one-dimensional"),
    ],
)
def test_bad_domains_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        Domain(values)


def test_bad_per_variable_domains_are_refused():
    with pytest.raises(ValueError, match="variable 1"):
        Domain.per_variable([[0, 1], []])
    with pytest.raises(ValueError, match="at least one variable"):
        Domain.per_variable([])
    with pytest.raises(ValueError, match="defines 2 variables but the problem has 3"):
        Domain.per_variable([[0, 1], [2]]).lower(3)


def test_lower_per_variable():
    values, offsets = Domain.per_variable([[1, 0], [5], [-2, 0, 2]]).lower(3)
    assert values.tolist() == [0, 1, 5, -2, 0, 2]
    assert offsets.tolist() == [0, 2, 3, 6]


def test_index_of_round_trips_and_refuses_outsiders():
    d = Domain.per_variable([[0, 1], [-2, 0, 2]])
    assert d.index_of([[1, 2], [0, -2]]).tolist() == [[1, 2], [0, 0]]
    with pytest.raises(ValueError, match="not in its variable's domain"):
        d.index_of([1, 1])
    with pytest.raises(ValueError, match="not in its variable's domain"):
        Domain.binary().index_of([0.0, 0.5])


def test_discretize_midpoints_go_down():
    # Algorithm 1: W_pre[i] <= (w[j] + w[j+1]) / 2 selects the lower value.
    assert discretize([-0.5, 0.5, 0.50001, -0.49999], [-1, 0, 1]).tolist() == [-1, 0, 1, 0]


def test_discretize_per_variable():
    d = Domain.per_variable([[0, 10], [-1, 1]])
    assert discretize([[5.0, 0.0], [5.1, 0.2]], d).tolist() == [[0.0, -1.0], [10.0, 1.0]]


def test_discretize_refuses_nan():
    with pytest.raises(ValueError, match="NaN"):
        discretize([0.0, np.nan], [0, 1])


@given(
    st.lists(finite, min_size=1, max_size=30), st.lists(finite, min_size=1, max_size=6, unique=True)
)
def test_discretize_is_the_nearest_value_lower_on_ties(w, omega):
    result = discretize(w, omega)
    omega_sorted = np.sort(np.asarray(omega))
    for wi, qi in zip(w, result):
        distances = np.abs(omega_sorted - wi)
        nearest = omega_sorted[distances == distances.min()]
        assert qi == nearest.min() or abs(qi - wi) == distances.min()
        assert qi in omega_sorted


@given(st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=40))
def test_discretize_scaled_beats_the_max_rule(w):
    alpha_l2, q_l2 = discretize_scaled(w, [-1, 0, 1])
    _, q_max = discretize_scaled(w, [-1, 0, 1], rule="max")
    w = np.asarray(w)
    assert alpha_l2 > 0
    assert set(np.round(q_l2 / alpha_l2, 9)).issubset({-1.0, 0.0, 1.0})
    assert np.sum((w - q_l2) ** 2) <= np.sum((w - q_max) ** 2) + 1e-9


def test_discretize_scaled_all_zero():
    alpha, q = discretize_scaled(np.zeros(3), [-1, 0, 1])
    assert alpha == 1.0 and q.tolist() == [0.0, 0.0, 0.0]
