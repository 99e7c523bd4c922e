"""Installed versions: no known-vulnerable floor, one pinned set for every machine (constraints.txt)."""

from __future__ import annotations

import tomllib
from importlib.metadata import version

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

# FileResponse's Range handling can be made to spin (CVE-2025-62727); fixed in 0.49.1.
STARLETTE_FIXED = Version("0.49.1")


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    named = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return [Requirement(line) for line in named]


def _pins() -> dict[str, Version]:
    pins = {}
    for raw in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            assert pinned, f"constraints.txt: {raw!r} is not pinned with =="
            pins[canonicalize_name(name)] = Version(pinned)
    return pins


def test_starlette_below_the_fix_is_not_allowed_nor_installed() -> None:
    (starlette,) = [r for r in _requirements() if r.name == "starlette"]
    for vulnerable in ("0.40.0", "0.48.0", "0.49.0"):
        assert not starlette.specifier.contains(vulnerable), vulnerable
    assert starlette.specifier.contains(STARLETTE_FIXED)
    assert _pins()["starlette"] >= STARLETTE_FIXED
    assert Version(version("starlette")) >= STARLETTE_FIXED


def test_constraints_pin_every_dependency_at_a_version_pyproject_allows() -> None:
    pins = _pins()
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is in pyproject.toml but not in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {requirement.name}=={pins[name]}, pyproject.toml wants {requirement}"
        )
    assert "psycopg-binary" in pins  # what psycopg[binary] installs
    assert "fieldbot" not in pins  # the project itself is installed from the tree


def test_make_installs_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet -c constraints.txt -e '.[dev]'" in makefile
    assert "$(STAMP): pyproject.toml constraints.txt" in makefile
