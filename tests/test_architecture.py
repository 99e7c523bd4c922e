"""The architecture's rules (docs/architecture.md, "The rules"), checked from the source.

Every module of bot/, handlers/, models/ (not its migrations) and scheduler.py is parsed with `ast`;
nothing is imported. An import inside a function counts like one at the top of the module; an
import under `if TYPE_CHECKING:` is not made at run time and does not count towards a cycle or
the imports inside functions, but it still counts as a dependency for the layering rules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOPS = ("bot", "handlers", "models", "scheduler")
EXCLUDED = ("models/migrations",)
CLI = "bot/cli.py"
MAX_FUNCTION_IMPORTS = 3
MAX_LINES = 600
CHAT_LIBRARIES = ("telegram", "twilio")


@dataclass(frozen=True)
class Import:
    """One imported module as a module of the tree names it."""

    source: str  # the importing module, e.g. "bot.core.service"
    path: str  # its file, relative to the root
    line: int
    target: str  # the module imported, resolved to the most specific project module
    in_function: bool
    type_checking: bool

    def where(self) -> str:
        return f"{self.path}:{self.line} imports {self.target}"


def module_name(relative: Path) -> str:
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files(
    root: Path, tops: Sequence[str] = TOPS, excluded: Sequence[str] = EXCLUDED
) -> list[Path]:
    """Every module of the project, relative to `root`."""
    found: list[Path] = []
    for top in tops:
        single = root / f"{top}.py"
        if single.is_file():
            found.append(single.relative_to(root))
        package = root / top
        if package.is_dir():
            for path in sorted(package.rglob("*.py")):
                relative = path.relative_to(root)
                if not any(relative.as_posix().startswith(f"{e}/") for e in excluded):
                    found.append(relative)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _walk(
    node: ast.AST, in_function: bool = False, type_checking: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import statement under `node`, with whether it is in a function / under TYPE_CHECKING."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, in_function, type_checking
        return
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        for child in node.body:
            yield from _walk(child, in_function, True)
        for child in node.orelse:
            yield from _walk(child, in_function, type_checking)
        return
    inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
    for child in ast.iter_child_nodes(node):
        yield from _walk(child, inside, type_checking)


def read_imports(root: Path, files: Iterable[Path]) -> list[Import]:
    files = list(files)
    modules = {module_name(f) for f in files}
    found: list[Import] = []
    for relative in files:
        source = module_name(relative)
        is_package = relative.name == "__init__.py"
        tree = ast.parse((root / relative).read_text(encoding="utf-8"), filename=str(relative))
        for node, in_function, type_checking in _walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    package = source.split(".") if is_package else source.split(".")[:-1]
                    package = package[: len(package) - (node.level - 1)]
                    base = ".".join([*package, *([base] if base else [])])
                for alias in node.names:
                    child = f"{base}.{alias.name}" if base else alias.name
                    targets.append(child if child in modules else base)
            for target in dict.fromkeys(targets):
                found.append(
                    Import(source, relative.as_posix(), node.lineno, target, in_function, type_checking)
                )
    return found


def is_project(target: str, tops: Sequence[str] = TOPS) -> bool:
    return target.split(".")[0] in tops


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(f"{prefix}.")


def import_graph(imports: Iterable[Import], tops: Sequence[str] = TOPS) -> dict[str, set[str]]:
    """Which project module imports which at run time (TYPE_CHECKING imports left out)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.type_checking or not is_project(imp.target, tops):
            continue
        graph.setdefault(imp.source, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    return graph


def cyclic_groups(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import each other in a circle (Tarjan's strongly connected
    components, without recursion), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1 or node in graph[node]:
                        groups.append(sorted(group))
    return sorted(groups)


def shortest_cycle(graph: dict[str, set[str]], start: str, members: set[str]) -> list[str]:
    """A shortest way from `start` back to itself through `members`, as the modules passed."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    return []


def cycles(imports: Iterable[Import], tops: Sequence[str] = TOPS) -> list[list[str]]:
    """The distinct shortest cycles through each module that is on one, each starting at its
    smallest module name."""
    graph = import_graph(imports, tops)
    found: dict[tuple[str, ...], None] = {}
    for group in cyclic_groups(graph):
        for member in group:
            cycle = shortest_cycle(graph, member, set(group))[:-1]
            first = cycle.index(min(cycle))
            found[tuple(cycle[first:] + cycle[:first])] = None
    return [[*cycle, cycle[0]] for cycle in found]


def function_imports(imports: Iterable[Import], tops: Sequence[str] = TOPS) -> list[Import]:
    """Project imports made inside functions, outside the CLI."""
    return [
        imp
        for imp in imports
        if imp.in_function and not imp.type_checking and is_project(imp.target, tops) and imp.path != CLI
    ]


def violations(
    imports: Iterable[Import], sources: Sequence[str], forbidden: Sequence[str]
) -> list[Import]:
    """Imports by modules under any of `sources` of anything under any of `forbidden`."""
    return [
        imp
        for imp in imports
        if any(within(imp.source, s) for s in sources) and any(within(imp.target, f) for f in forbidden)
    ]


def chat_imports(imports: Iterable[Import]) -> list[Import]:
    """Imports of a chat library by modules outside bot/channels/."""
    return [
        imp
        for imp in imports
        if not within(imp.source, "bot.channels")
        and any(within(imp.target, lib) for lib in CHAT_LIBRARIES)
    ]


def long_modules(root: Path, files: Iterable[Path], limit: int = MAX_LINES) -> list[tuple[str, int]]:
    out = []
    for relative in files:
        lines = len((root / relative).read_text(encoding="utf-8").splitlines())
        if lines > limit:
            out.append((relative.as_posix(), lines))
    return sorted(out, key=lambda item: -item[1])


def listing(imports: Iterable[Import]) -> str:
    return "\n".join(f"  {imp.where()}" for imp in sorted(imports, key=lambda i: (i.path, i.line)))


# ---------------------------------------------------------------- the tree as it is

FILES = project_files(ROOT)
IMPORTS = read_imports(ROOT, FILES)


def test_the_tree_is_found() -> None:
    names = {module_name(f) for f in FILES}
    assert {"bot.cli", "handlers", "models", "scheduler"} <= names
    assert not any(name.startswith("models.migrations") for name in names)
    assert any(imp.target == "bot.i18n" for imp in IMPORTS)


def test_no_import_cycles() -> None:
    groups = cyclic_groups(import_graph(IMPORTS))
    found = cycles(IMPORTS)
    assert not groups, (
        "import cycles among the project's modules; modules on a cycle: "
        + ", ".join(f"{len(g)} ({g[0]}, ...)" for g in groups)
        + "\nthe shortest cycle through each of them:\n"
        + "\n".join("  " + " -> ".join(cycle) for cycle in found)
        + "\nwhere each import is:\n"
        + listing(i for i in IMPORTS if any(i.source in g and i.target in g for g in groups))
    )


def test_few_imports_inside_functions() -> None:
    found = function_imports(IMPORTS)
    assert len(found) <= MAX_FUNCTION_IMPORTS, (
        f"{len(found)} project imports inside functions outside {CLI} "
        f"(at most {MAX_FUNCTION_IMPORTS}; move them to the top of the module):\n{listing(found)}"
    )


def test_only_channels_import_chat_libraries() -> None:
    found = chat_imports(IMPORTS)
    assert not found, f"only bot/channels/ may import telegram or twilio:\n{listing(found)}"


LAYER_RULES = [
    pytest.param(("bot.core",), ("bot.channels", "handlers", *CHAT_LIBRARIES), id="core"),
    pytest.param(("handlers",), ("bot.channels", *CHAT_LIBRARIES), id="handlers"),
]


@pytest.mark.parametrize(("sources", "forbidden"), LAYER_RULES)
def test_layers(sources: tuple[str, ...], forbidden: tuple[str, ...]) -> None:
    found = violations(IMPORTS, sources, forbidden)
    assert not found, f"{', '.join(sources)} may not import {', '.join(forbidden)}:\n{listing(found)}"


def test_nothing_in_bot_imports_the_top_level_scheduler() -> None:
    found = violations(IMPORTS, ("bot",), ("scheduler",))
    assert not found, f"bot/ may not import the top-level scheduler.py:\n{listing(found)}"


def test_no_module_is_too_long() -> None:
    found = long_modules(ROOT, FILES)
    assert not found, f"modules over {MAX_LINES} lines:\n" + "\n".join(
        f"  {path}: {lines} lines" for path, lines in found
    )


# ---------------------------------------------------------------- the checker itself


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


SYNTHETIC = {
    "bot/__init__.py": "",
    "bot/cli.py": "def main():\n    from bot.core import service\n",
    "bot/core/__init__.py": "",
    # service -> batch at the top; batch -> service inside a function: still a cycle.
    "bot/core/service.py": "from bot.core import batch\nfrom telegram import Update\n",
    "bot/core/batch.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from bot.core.messages import Inbound\n"
        "def run():\n"
        "    from bot.core.service import Fieldbot\n"
        "    from . import messages\n"
    ),
    # messages -> batch and a channel only for the type checker: no cycle through messages, but
    # the core still may not name a channel.
    "bot/core/messages.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import bot.core.batch\n"
        "    from bot.channels import telegram\n"
    ),
    "bot/delivery/__init__.py": "",
    "bot/delivery/outbox.py": "def send():\n    import scheduler\n    import bot.delivery.sender\n",
    "bot/delivery/sender.py": "import twilio.rest\nfrom bot.delivery import outbox\n",
    "bot/channels/__init__.py": "",
    "bot/channels/telegram.py": "import telegram\nfrom bot.core import service\n",
    "handlers/__init__.py": "from handlers import reports\n",
    "handlers/reports.py": "from telegram.ext import Application\nfrom bot.channels import telegram\n",
    "models/__init__.py": "x = 1\n" * 601,
    "models/migrations/versions/0001.py": "from bot.core import service\n" + "x = 1\n" * 700,
    "scheduler.py": "from bot.cli import main\n",
}


Synthetic = tuple[Path, list[Path], list[Import]]


@pytest.fixture()
def synthetic(tmp_path: Path) -> Synthetic:
    write(tmp_path, SYNTHETIC)
    files = project_files(tmp_path)
    return tmp_path, files, read_imports(tmp_path, files)


def test_checker_reads_the_synthetic_tree(synthetic: Synthetic) -> None:
    _, files, imports = synthetic
    names = {module_name(f) for f in files}
    assert "models" in names and "scheduler" in names and "bot.core" in names
    assert not any("migrations" in name for name in names)
    batch = {(i.target, i.in_function, i.type_checking) for i in imports if i.source == "bot.core.batch"}
    assert ("bot.core.messages", False, True) in batch
    assert ("bot.core.service", True, False) in batch
    assert ("bot.core.messages", True, False) in batch  # `from . import messages`, resolved


def test_checker_finds_cycles(synthetic: Synthetic) -> None:
    _, _, imports = synthetic
    assert cycles(imports) == [
        ["bot.core.batch", "bot.core.service", "bot.core.batch"],
        ["bot.delivery.outbox", "bot.delivery.sender", "bot.delivery.outbox"],
    ]  # not through messages: its import is for the type checker only
    assert cyclic_groups(import_graph(imports)) == [
        ["bot.core.batch", "bot.core.service"],
        ["bot.delivery.outbox", "bot.delivery.sender"],
    ]


def test_checker_finds_imports_inside_functions(
    synthetic: tuple[Path, list[Path], list[Import]],
) -> None:
    _, _, imports = synthetic
    found = {(i.path, i.target) for i in function_imports(imports)}
    assert found == {
        ("bot/core/batch.py", "bot.core.service"),
        ("bot/core/batch.py", "bot.core.messages"),
        ("bot/delivery/outbox.py", "scheduler"),
        ("bot/delivery/outbox.py", "bot.delivery.sender"),
    }  # bot/cli.py's own is allowed


def test_checker_finds_layer_violations(synthetic: Synthetic) -> None:
    _, _, imports = synthetic
    core = violations(imports, ("bot.core",), ("bot.channels", "handlers", *CHAT_LIBRARIES))
    assert {(i.path, i.target) for i in core} == {
        ("bot/core/service.py", "telegram"),
        ("bot/core/messages.py", "bot.channels.telegram"),
    }
    handlers = violations(imports, ("handlers",), ("bot.channels", *CHAT_LIBRARIES))
    assert {i.target for i in handlers} == {"telegram.ext", "bot.channels.telegram"}
    assert {i.path for i in chat_imports(imports)} == {
        "bot/core/service.py",
        "bot/delivery/sender.py",
        "handlers/reports.py",
    }
    top = violations(imports, ("bot",), ("scheduler",))
    assert [(i.path, i.line) for i in top] == [("bot/delivery/outbox.py", 2)]


def test_checker_finds_long_modules(synthetic: Synthetic) -> None:
    root, files, _ = synthetic
    assert long_modules(root, files) == [("models/__init__.py", 601)]
