"""The layering rules of docs/architecture.md, checked on the source tree.

* Every module of ``combopt`` belongs to the core (the solver API and what it
  stands on, in the layers of :data:`CORE_LAYERS`) or to an application
  package (:data:`APPLICATIONS`). A core module imports only its own package
  and the core layers below it -- never an application, so the objectives
  cannot lean on ``combopt.nn`` -- and ``import combopt`` loads the core only.
* No library module imports the top-level package (``import combopt``,
  ``from combopt import solve``): names come from the module that defines
  them, so no import order can hand out a half-initialised package.
* A function-level import of a ``combopt`` module hides a cycle: outside the
  CLI, each one is listed in :data:`LAZY_IMPORTS` with the reason.
* ``reductions`` never imports ``combopt``.
* Only the core (the public wrappers) and the reduction checker reach into
  ``combopt._kernels``; adapters, readers, the CLI and the experiments use
  the public API.
* Library code never prints (the CLI does).
* No source file grows past the size people can read in one sitting.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "combopt"

#: The core, lowest layer first. A core module may import from its own package
#: and from the packages of lower layers, nothing else of ``combopt``.
CORE_LAYERS = (
    ("combopt._version", "combopt._validation", "combopt._numeric", "combopt._kernels"),
    ("combopt.domain", "combopt.strategies"),
    ("combopt.objectives",),
    ("combopt._driver",),
    ("combopt.solver",),
)
CORE = tuple(package for layer in CORE_LAYERS for package in layer)
#: Packages that encode native problems for the core, or run and report it.
APPLICATIONS = (
    "combopt.adapters",
    "combopt.bench",
    "combopt.cli",
    "combopt.coloring",
    "combopt.instances",
    "combopt.io",
    "combopt.nn",
    "combopt.provenance",
    "combopt.reduction_check",
    "combopt.samplers",
    "combopt.samplers_cqm",
    "combopt.training_route",
    "combopt.tsp",
)
#: Third-party packages too slow or too optional for ``import combopt`` to load.
HEAVY = ("dimod", "dwave", "matplotlib", "networkx", "scipy.optimize", "sklearn")
#: Deliberate function-level imports of combopt modules outside the CLI (which
#: imports each subcommand's machinery when it runs, so ``--help`` starts fast).
LAZY_IMPORTS = {
    ("combopt/samplers.py", "combopt.training_route"): "its scipy.optimize is slow to import",
}
KERNEL_USERS = {
    "combopt/reduction_check.py",
    "combopt/io/coo.py",  # the COO reader wraps the compiled byte scanner
    "combopt/tsp/alpha.py",  # 1-trees and alpha-nearness are compiled, not solver objectives
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


def _module_imports(tree) -> set[tuple[int, str]]:
    """``(line, module)`` of each absolute import in ``tree`` (``from M import x`` gives ``M``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add((node.lineno, node.module))
    return found


def _function_level_imports(tree) -> list[tuple[int, str]]:
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    functions = (n for n in ast.walk(tree) if isinstance(n, kinds))
    return sorted(set().union(*(_module_imports(f) for f in functions)))


def _under(name: str, packages) -> str | None:
    """The entry of ``packages`` that module ``name`` is (or is inside), else None."""
    return next((p for p in packages if name == p or name.startswith(p + ".")), None)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


LIBRARY = [p for p in _python_files("combopt") if p != PACKAGE / "__init__.py"]


@pytest.mark.parametrize("path", LIBRARY, ids=_relative)
def test_every_module_has_a_layer(path):
    name = _module_name(path)
    assert _under(name, CORE) or _under(name, APPLICATIONS), (
        f"{name} is in no layer: add it to CORE_LAYERS or APPLICATIONS in "
        f"tests/test_architecture.py (and to docs/architecture.md)"
    )


CORE_FILES = [p for p in LIBRARY if _under(_module_name(p), CORE)]


@pytest.mark.parametrize("path", CORE_FILES, ids=_relative)
def test_core_imports_only_its_own_package_and_lower_layers(path):
    name = _module_name(path)
    level = next(i for i, layer in enumerate(CORE_LAYERS) if _under(name, layer))
    own = _under(name, CORE)
    allowed = (own, *(p for layer in CORE_LAYERS[:level] for p in layer))
    bad = [
        f"line {line}: {module}"
        for line, module in sorted(_module_imports(ast.parse(path.read_text())))
        if _under(module, ("combopt",)) and module != "combopt" and not _under(module, allowed)
    ]
    assert not bad, (
        f"{_relative(path)} ({own}) imports above its layer or an application: {bad}; "
        f"it may import {', '.join(allowed)} (see docs/architecture.md)"
    )


@pytest.mark.parametrize("path", list(_python_files("combopt", "reductions")), ids=_relative)
def test_no_library_module_imports_the_top_level_package(path):
    if path == PACKAGE / "__init__.py":
        return
    tree = ast.parse(path.read_text())
    bad = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Import) and any(a.name == "combopt" for a in node.names))
        or (isinstance(node, ast.ImportFrom) and (node.module == "combopt" or node.level > 0))
    ]
    assert not bad, (
        f"{_relative(path)} imports the package combopt (or relatively) at lines {bad}: "
        f"import from the defining module, e.g. `from combopt.solver import solve`"
    )


@pytest.mark.parametrize("path", LIBRARY, ids=_relative)
def test_function_level_imports_of_combopt_are_deliberate(path):
    rel = _relative(path)
    if rel.startswith("combopt/cli/"):
        return
    bad = [
        f"line {line}: {module}"
        for line, module in _function_level_imports(ast.parse(path.read_text()))
        if _under(module, ("combopt", "reductions")) and (rel, module) not in LAZY_IMPORTS
    ]
    assert not bad, (
        f"{rel} imports inside functions {bad}: import at module level (a cycle it would "
        f"create is a layering error), or list it in LAZY_IMPORTS with the reason"
    )


@pytest.mark.parametrize("path", list(_python_files("reductions")), ids=_relative)
def test_reductions_never_imports_combopt(path):
    bad = [m for _, m in _module_imports(ast.parse(path.read_text())) if _under(m, ("combopt",))]
    assert not bad, f"{_relative(path)} imports {bad}: reductions is numpy/scipy only"


def test_import_combopt_loads_the_core_only():
    code = (
        "import sys, combopt\n"
        "print(combopt.__file__)\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('combopt'))))\n"
        "print(','.join(sorted(sys.modules)))\n"
        "print(all(getattr(combopt, name) is not None for name in combopt.__all__))\n"
    )
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT, env=env
    )
    assert out.returncode == 0, f"import combopt failed:\n{out.stderr}"
    where, ours, everything, api = out.stdout.splitlines()
    assert Path(where).resolve() == (PACKAGE / "__init__.py").resolve(), where
    ours = ours.split(",")
    applications = [m for m in ours if _under(m, APPLICATIONS)]
    assert not applications, (
        f"import combopt loaded application modules {applications}: a core module imports them "
        f"(`python -X importtime -c 'import combopt'` shows which)"
    )
    unlisted = [m for m in ours if m != "combopt" and not _under(m, CORE)]
    assert not unlisted, f"import combopt loaded modules outside the core: {unlisted}"
    assert "combopt.solver" in ours and "combopt.objectives" in ours  # the check sees the imports
    heavy = [h for h in HEAVY if h in everything.split(",")]
    assert not heavy, f"import combopt loaded {heavy}: import them where they are used"
    assert api == "True", "a name of combopt.__all__ does not resolve"


@pytest.mark.parametrize("path", list(_python_files("combopt", "experiments")), ids=_relative)
def test_only_public_wrappers_reach_into_kernels(path):
    rel = _relative(path)
    if _under(_module_name(path), CORE) or rel in KERNEL_USERS:
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
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
    ]
    assert not prints, (
        f"{_relative(path)} prints at lines {prints}: use logging, a callback or the CLI"
    )


@pytest.mark.parametrize(
    "path", list(_python_files("combopt", "reductions", "experiments", "tests")), ids=_relative
)
def test_files_stay_readable(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{_relative(path)} has {lines} lines (limit {MAX_LINES}): split it"


@pytest.mark.parametrize("path", list(_python_files("combopt", "reductions")), ids=_relative)
def test_every_module_starts_with_a_docstring(path):
    tree = ast.parse(path.read_text())
    assert ast.get_docstring(tree), f"{_relative(path)} has no module docstring"
