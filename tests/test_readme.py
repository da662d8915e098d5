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
