"""The import graph of byhand: data flows one way, so no module imports one that imports it back.

Read from the source with ast, every import counted: at the top, inside functions and under
TYPE_CHECKING alike, since a lazy import is still a dependency.
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"


def modules() -> dict[str, Path]:
    """Every module of byhand by its dotted name (a package by its own name)."""
    found = {}
    for path in sorted((SRC / "byhand").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The byhand modules `name` imports: `from a import b` counts a.b when b is a module."""
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:  # import a.b.c of a non-module c counts a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, set(known)) for name, path in known.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A circle a → b → … → a in `edges`, or None (depth-first search)."""
    on_path: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        on_path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt in on_path:
                return on_path[on_path.index(nxt) :] + [nxt]
            if nxt not in done and (found := visit(nxt)):
                return found
        on_path.pop()
        done.add(node)
        return None

    for node in sorted(edges):
        if node not in done and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_circle_and_only_a_circle():
    # hand-made graphs: a → b → c → a is a circle; a diamond a → b, a → c, b → d, c → d is not
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set()}) is None


def test_the_reader_sees_lazy_relative_and_type_checking_imports(tmp_path):
    pkg = tmp_path / "byhand"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from byhand.a import thing\n")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from byhand.b import B\n"
        "def f():\n    from . import c\n"
    )
    known = {"byhand", "byhand.a", "byhand.b", "byhand.c"}
    assert imported("byhand", pkg / "__init__.py", known) == {"byhand.a"}
    assert imported("byhand.a", pkg / "a.py", known) == {"byhand.b", "byhand.c"}


def test_byhand_imports_in_one_direction():
    edges = graph()
    assert len(edges) > 40 and "byhand.network" in edges  # the real package was read
    cycle = find_cycle(edges)
    assert cycle is None, "import circle: " + " → ".join(cycle)


@pytest.mark.parametrize("module", ["byhand.network", "byhand.trace"])
def test_the_engine_imports_nothing_that_shows_it(module):
    # the records know nothing of their display: notebook, diagram and tables sit above them
    assert not graph()[module] & {"byhand.notebook", "byhand.diagram", "byhand.display"}


def test_no_name_in_a_package_hides_one_of_its_modules():
    """`import byhand.x as m` must give the module x: a package attribute x that is a function
    of the same name (byhand.explain once was) hides it, and `m` is then the function."""
    import importlib

    hidden = []
    for name in modules():
        package, _, last = name.rpartition(".")
        if not package or ".migrations" in name:  # run by Alembic, not imported
            continue
        module = importlib.import_module(name)
        value = getattr(importlib.import_module(package), last, module)
        if value is not module:
            hidden.append(f"{package}.{last} is {type(value).__name__}, not the module")
    assert hidden == []
