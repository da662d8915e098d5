"""The layering rules of docs/architecture.md, checked on the source tree.

* Only the public wrappers (the solver, the objective classes, the reduction
  checker) reach into ``combopt._kernels``; adapters, readers, the CLI and the
  experiments use the public API.
* Library code never prints (the CLI does).
* No source file grows past the size people can read in one sitting.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "combopt"
KERNEL_USERS = {
    "combopt/solver.py",
    "combopt/reduction_check.py",
    "combopt/io/coo.py",  # the COO reader wraps the compiled byte scanner
}
MAX_LINES = 600


def _python_files(*folders):
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", list(_python_files("combopt", "experiments")), ids=_relative)
def test_only_public_wrappers_reach_into_kernels(path):
    rel = _relative(path)
    if rel.startswith("combopt/_kernels/") or rel.startswith("combopt/objectives/") or rel in KERNEL_USERS:
        return
    assert not any(name.startswith("combopt._kernels") for name in _imports(path)), (
        f"{rel} imports combopt._kernels: adapters and tools must go through the public API"
    )


@pytest.mark.parametrize("path", list(_python_files("combopt")), ids=_relative)
def test_library_code_does_not_print(path):
    if _relative(path).startswith("combopt/cli/"):
        return
    tree = ast.parse(path.read_text())
    prints = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    ]
    assert not prints, f"{_relative(path)} prints at lines {prints}: use logging, a callback or the CLI"


@pytest.mark.parametrize("path", list(_python_files("combopt", "reductions", "experiments", "tests")), ids=_relative)
def test_files_stay_readable(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{_relative(path)} has {lines} lines (limit {MAX_LINES}): split it"


@pytest.mark.parametrize("path", list(_python_files("combopt", "reductions")), ids=_relative)
def test_every_module_starts_with_a_docstring(path):
    tree = ast.parse(path.read_text())
    assert ast.get_docstring(tree), f"{_relative(path)} has no module docstring"
