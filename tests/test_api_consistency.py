"""One way of doing each thing: names, strategy lists, seeds and errors agree everywhere."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

from combopt import Domain, solve, solver
from combopt.cli import build_parser
from combopt.cli.bench import parse_seeds
from combopt.nn.datasets import load_iris
from combopt.nn.lenet_training import train_lenet
from combopt.nn.tasks import run_task
from combopt.nn.training import train_conntra
from combopt.objectives import QuadraticObjective
from combopt.samplers import CombOptSampler, TrainingRouteSampler
from combopt.strategies import STRATEGIES
from combopt.training_route import solve_qubo_via_training
from combopt.tsp.solve import solve_tsp

ROOT = Path(__file__).resolve().parent.parent
NAMES = set(STRATEGIES)
# A brace set or a parenthesised list of two or more strategy names, quoted or bare.
_NAME = r"(?:auto|paper|anneal|metropolis|tabu|ils)"
_LIST = re.compile(rf"[{{(]((?:\s*\"?{_NAME}\"?\s*,){{1,}}\s*\"?{_NAME}\"?\s*)[}})]")


def _strategy_lists(text: str) -> list[set]:
    return [set(re.findall(_NAME, m)) for m in _LIST.findall(text)]


def test_every_written_strategy_list_is_STRATEGIES():
    files = [*sorted((ROOT / "combopt").rglob("*.py")), ROOT / "README.md"]
    files += sorted((ROOT / "docs").glob("*.md"))
    found = 0
    for path in files:
        for names in _strategy_lists(path.read_text()):
            found += 1
            assert names == NAMES, f"{path.relative_to(ROOT)} lists strategies {sorted(names)}"
    assert found >= 2  # the tsp and estimator docstrings at least (solve's names STRATEGIES)


def test_the_checker_sees_a_short_list():
    short = 'strategy : {"paper", "anneal", "tabu"}'
    assert _strategy_lists(short) == [{"paper", "anneal", "tabu"}]


def _options(parser):
    for action in parser._actions:
        if getattr(action, "choices", None) and isinstance(action.choices, dict):
            for sub in action.choices.values():
                yield from _options(sub)
        else:
            yield parser, action


#: Named presets a command adds to STRATEGIES: ``combopt color``'s TabuCol parameters.
_CLI_EXTRAS = {"combopt color": {"tabucol"}}


def test_every_cli_strategy_option_offers_STRATEGIES():
    seen = 0
    for parser, action in _options(build_parser()):
        if "--strategy" in action.option_strings:
            seen += 1
            assert set(action.choices) == NAMES | _CLI_EXTRAS.get(parser.prog, set()), parser.prog
    assert seen == 4  # solve, reduce, tsp, color


_OLD_NAMES = {"iterations", "rounds", "omega", "progress", "budget", "max_iter"}


@pytest.mark.parametrize("function", [solve, CombOptSampler.sample, TrainingRouteSampler.sample,
                                      train_conntra, train_lenet, run_task, solve_tsp,
                                      solve_qubo_via_training])
def test_one_name_per_concept(function):
    parameters = set(inspect.signature(function).parameters)
    assert not parameters & _OLD_NAMES, f"{function.__qualname__}: {parameters & _OLD_NAMES}"


def test_cli_uses_the_same_names():
    for parser, action in _options(build_parser()):
        for option in action.option_strings:
            assert option not in ("--iterations", "--budget", "--omega", "--rounds"), parser.prog


def _tiny():
    return QuadraticObjective(np.array([[1.0, -2.0], [0.0, 1.0]]))


def _bqm():
    import dimod

    return dimod.BQM({0: 1.0}, {(0, 1): -2.0}, 0.0, "BINARY")


ENTRY_POINTS = {
    "solve": lambda **kw: solve(_tiny(), Domain.binary(), max_iterations=1, **kw),
    "CombOptSampler": lambda **kw: CombOptSampler().sample(_bqm(), max_iterations=1, **kw),
    "TrainingRouteSampler": lambda **kw: TrainingRouteSampler().sample(_bqm(), max_iterations=1,
                                                                       **kw),
    "train_conntra": lambda **kw: train_conntra(load_iris(), (), max_iterations=1, segments=1,
                                                pretrain_iter=20, **kw),
}


@pytest.mark.parametrize("name", ENTRY_POINTS)
@pytest.mark.parametrize("seed, error", [(2**53, ValueError), (-1, ValueError), (1.0, TypeError),
                                         (True, TypeError), ("1", TypeError)])
def test_one_seed_range_and_one_error_per_mistake(name, seed, error):
    with pytest.raises(error, match=r"seed must be an integer in \[0, 2\*\*53\)"):
        ENTRY_POINTS[name](seed=seed)


@pytest.mark.parametrize("name", ["solve", "CombOptSampler", "TrainingRouteSampler"])
def test_largest_seed_is_accepted(name):
    ENTRY_POINTS[name](seed=2**53 - 1)


@pytest.mark.parametrize("name", ENTRY_POINTS)
@pytest.mark.parametrize("num_reads, error", [(0, ValueError), (2.0, TypeError), (True, TypeError)])
def test_num_reads_mistakes_raise_the_same_type(name, num_reads, error):
    with pytest.raises(error, match="num_reads must be an integer"):
        ENTRY_POINTS[name](num_reads=num_reads)


def test_bench_seeds_share_the_range():
    assert parse_seeds(f"{2**53 - 1}") == [2**53 - 1]
    with pytest.raises(ValueError, match=r"\[0, 2\*\*53\)"):
        parse_seeds(f"{2**53}")


def test_absurd_memory_is_refused_before_allocation(monkeypatch):
    monkeypatch.setattr(solver, "_memory_limit", lambda: 2**20)  # 1 MiB
    with pytest.raises(ValueError, match=r"num_reads=64 reads of n=2 variables need about"):
        solve(_tiny(), Domain.binary(), num_reads=64, max_iterations=2000)
    solve(_tiny(), Domain.binary(), num_reads=64, max_iterations=10)  # small enough


def test_memory_estimate_of_a_huge_sparse_problem():
    """10^8 variables with 10^3 reads: refused by the estimate, nothing allocated."""
    with pytest.raises(ValueError, match="GiB"):
        solver._check_memory(10**8, 1000, 1)


def test_cli_memory_guard_is_one_line_exit_2(capsys):
    from combopt.cli import main

    assert main(["solve", "bqp50.1", "--num-reads", "200000"]) == 2
    err = capsys.readouterr().err
    assert "num_reads must be an integer in 1..100000" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", [["solve", "bqp50.1"], ["reduce", "solve", "bqp50.1"],
                                     ["tsp", "x"], ["train", "iris"]])
def test_cli_seed_range_is_the_same(command, capsys):
    from combopt.cli import main

    with pytest.raises(SystemExit) as info:
        main([*command, "--seed", str(2**53)])
    assert info.value.code == 2
    assert f"argument --seed: must be < {2**53}" in capsys.readouterr().err
