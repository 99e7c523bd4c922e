"""The docs: every link leads somewhere in the repository, and nothing an operator needs is missing."""

from __future__ import annotations

import argparse
import re
import unicodedata
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
OPERATIONS = ROOT / "docs" / "operations.md"
CODE = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py"), ROOT / "scheduler.py"]

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def prose(path: Path) -> str:
    """The file without its fenced code blocks, where brackets are code, not links."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {anchor(line.lstrip("#")) for line in prose(path).splitlines() if re.match(r"#{1,6} ", line)}


def links() -> list[tuple[Path, str]]:
    return [(doc, target) for doc in DOCS for target in LINK.findall(prose(doc))]


@pytest.mark.parametrize(
    ("doc", "target"),
    [pytest.param(d, t, id=f"{d.name}:{t}") for d, t in links() if "://" not in t],
)
def test_every_relative_link_resolves_inside_the_repository(doc: Path, target: str) -> None:
    path, _, fragment = target.partition("#")
    file = (doc.parent / path).resolve() if path else doc
    assert file.is_relative_to(ROOT), f"{doc.name}: {target} points outside the repository"
    assert file.exists(), f"{doc.name}: {target} does not exist"
    if fragment:
        assert file.suffix == ".md", f"{doc.name}: {target}: an anchor into a file that is not markdown"
        assert fragment in anchors(file), f"{doc.name}: {target}: no such heading in {file.name}"


def test_the_docs_are_there_and_linked_from_the_readme() -> None:
    linked = {(README.parent / t.partition("#")[0]).resolve() for t in LINK.findall(prose(README))}
    for name in ("chat.md", "operations.md", "architecture.md"):
        assert (ROOT / "docs" / name).resolve() in linked, f"README does not link docs/{name}"
    for name in ("PRIVACY.md", "SECURITY.md", "BENCHMARKS.md"):
        assert (ROOT / name).resolve() in linked, f"README does not link {name}"


def test_the_readme_shows_the_two_commands_and_stays_short() -> None:
    text = README.read_text(encoding="utf-8")
    assert "    make demo " in text
    assert "    make test " in text
    assert len(text.splitlines()) <= 150


def test_no_text_is_corrupted_and_nothing_points_outside() -> None:
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        assert not re.search(r"\{\{[A-Za-z]", text), f"{doc.name}: `{{{{` in place of a letter"
        assert "../shared" not in text, f"{doc.name} points outside the repository"


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    """Every command line the parser accepts: `run`, `roster import`, `db upgrade`, …"""
    found: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.extend(commands(sub, f"{prefix}{name} ") or [f"{prefix}{name}"])
    return found


def test_every_command_is_documented() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    missing = [c for c in commands(build_parser()) if f"| `{c}" not in text]
    assert not missing, f"commands without a row in docs/operations.md: {missing}"


def test_every_config_section_is_documented() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    keys = [k for k, field in Settings.model_fields.items() if not field.exclude]
    missing = [k for k in keys if not re.search(rf"`{k}[`.\[]", text)]
    assert not missing, f"config keys without a row in docs/operations.md: {missing}"


def test_every_environment_variable_is_documented() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    names = {
        name
        for path in CODE
        for name in re.findall(r"\"((?:FIELDBOT|TELEGRAM|TWILIO)_[A-Z_]+)\"", path.read_text("utf-8"))
    }
    assert names, "no environment variable found in the code: the search is broken"
    missing = sorted(n for n in names if f"`{n}`" not in text)
    assert not missing, f"environment variables not in docs/operations.md: {missing}"
