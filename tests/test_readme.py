"""The README cannot lie: CI runs its test command verbatim."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {section} -->\s*```(?:sh|bash)?\n(.*?)```", text, re.DOTALL)
    assert match, f"README.md has no fenced block after <!-- {section} -->"
    return [line.strip() for line in match.group(1).splitlines() if line.strip()]


def test_readme_has_exactly_two_setup_commands():
    assert len(_commands("main-job")) == 1
    assert len(_commands("tests")) == 1


def test_ci_runs_the_readme_test_command_verbatim():
    (command,) = _commands("tests")
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in ci_lines


def test_the_test_command_runs_the_docstring_examples(pytestconfig):
    """The README's bare ``python -m pytest`` collects the library's examples too."""
    assert pytestconfig.getoption("doctestmodules")
    assert {"tests", "combopt", "reductions"} <= set(pytestconfig.getini("testpaths"))
    assert "NUMBER" in pytestconfig.getini("doctest_optionflags")


def test_every_examples_section_has_a_runnable_example():
    """A numpydoc ``Examples`` section without ``>>>`` is a stub the doctests never see;
    the command-line modules show shell usage (``::`` blocks) instead."""
    heading = re.compile(r"^([ \t]*)Examples\n\1-{8}\n(.*?)(?=\"\"\"|^\1[A-Z][a-z ]+\n\1-{3,}$)",
                         re.DOTALL | re.MULTILINE)
    sections, stubs = 0, []
    for path in sorted([*ROOT.glob("combopt/**/*.py"), *ROOT.glob("reductions/**/*.py")]):
        text = path.read_text()
        for match in heading.finditer(text):
            sections += 1
            body = match.group(2)
            if ">>>" not in body and not (path.parent.name == "cli" and "::" in body):
                line = text.count("\n", 0, match.start()) + 1
                stubs.append(f"{path.relative_to(ROOT)}:{line}")
    assert sections > 100  # the pattern still finds the sections
    assert not stubs, f"Examples sections with nothing to run: {stubs}"
