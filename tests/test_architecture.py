"""The package's import structure: layers, private names, cycles, imports inside functions.

The checker parses every ``.py`` under the installed ``jaxmbl/`` with :mod:`ast` (nothing is
imported), builds the graph of module-level imports between jaxmbl modules and enforces:

1. no import of a ``_private`` name, or of a private module, from another subpackage;
2. no import cycle between modules;
3. no import of a jaxmbl module inside a function body;
4. imports only go down the layers ``_core < _swingle < _hamiltonians < _analysis < _stability
   < sweep < reproduce < top`` (top: ``jaxmbl/__init__.py``, ``_cli.py``, ``_bench.py``);
5. the claims (``jaxmbl/reproduce/cN_*.py``) reach the library through ``import jaxmbl`` and
   their own subpackage only.

The checks are plain functions over ``{module name: source}`` so that the tests at the bottom
can show that each one fires on a small synthetic package.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import jaxmbl

LAYERS = ("_core", "_swingle", "_hamiltonians", "_analysis", "_stability", "sweep", "reproduce", "top")
ALLOWED_PRIVATE = {"__future__", "__version__"}
CLAIM = re.compile(r"^jaxmbl\.reproduce\.c\d+_\w+$")


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported jaxmbl module
    names: tuple  # names taken from it (empty for ``import target``)
    line: int
    in_function: bool


def package_sources(root: Path = Path(jaxmbl.__file__).parent) -> dict[str, str]:
    """``{dotted module name: source}`` for every ``.py`` below ``root`` (the jaxmbl package)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = ("jaxmbl", *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path.read_text()
    return out


def group(module: str) -> str:
    """The layer a module belongs to: its subpackage, or ``top`` for the package's own files."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else "top"


def is_package(module: str, modules) -> bool:
    return any(m.startswith(module + ".") for m in modules)


def _resolve(source: str, node: ast.ImportFrom, modules) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".")
    if not is_package(source, modules):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(modules: dict[str, str]) -> list[Import]:
    """Every import of a jaxmbl module in ``modules``, module-level or not."""
    found = []
    for source, text in modules.items():
        tree = ast.parse(text)
        stack = [(tree, False)]
        while stack:
            node, in_function = stack.pop()
            inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "jaxmbl" or alias.name.startswith("jaxmbl."):
                        found.append(Import(source, alias.name, (), node.lineno, in_function))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(source, node, modules)
                if target == "jaxmbl" or target.startswith("jaxmbl."):
                    plain = tuple(a.name for a in node.names if f"{target}.{a.name}" not in modules)
                    if plain or not node.names:
                        found.append(Import(source, target, plain, node.lineno, in_function))
                    for a in node.names:  # ``from pkg import submodule`` imports the submodule
                        if f"{target}.{a.name}" in modules:
                            found.append(Import(source, f"{target}.{a.name}", (), node.lineno, in_function))
            stack.extend((child, inside) for child in ast.iter_child_nodes(node))
    return sorted(found, key=lambda i: (i.source, i.line))


def _private_module(module: str) -> bool:
    # The layer packages (_core, _swingle, ...) are private by name; what counts is below them.
    parts = module.split(".")[1:]
    if parts and parts[0] in LAYERS:
        parts = parts[1:]
    return any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in parts)


def private_violations(found) -> list[str]:
    bad = []
    for i in found:
        if group(i.source) == group(i.target):
            continue
        names = [n for n in i.names if n.startswith("_") and n not in ALLOWED_PRIVATE]
        if names:
            bad.append(f"{i.source}:{i.line} imports private {names} from {i.target}")
        elif not i.names and _private_module(i.target) and i.target != "jaxmbl":
            bad.append(f"{i.source}:{i.line} imports the private module {i.target}")
    return bad


def function_violations(found) -> list[str]:
    return [f"{i.source}:{i.line} imports {i.target} inside a function" for i in found if i.in_function]


def layer_violations(found) -> list[str]:
    bad = []
    for i in found:
        if CLAIM.match(i.source) and i.target == "jaxmbl" and not i.names:
            continue  # a claim is a user of the library: ``import jaxmbl as jm``
        if LAYERS.index(group(i.target)) > LAYERS.index(group(i.source)):
            bad.append(f"{i.source}:{i.line} ({group(i.source)}) imports {i.target} from the layer above")
    return bad


def claim_violations(found) -> list[str]:
    bad = []
    for i in found:
        if not CLAIM.match(i.source):
            continue
        if i.target == "jaxmbl" and not i.names:
            continue
        if i.target.startswith("jaxmbl.reproduce."):
            continue
        bad.append(f"{i.source}:{i.line} imports {i.target} {list(i.names)}: claims use `import jaxmbl as jm`")
    return bad


def cycles(found, modules) -> list[list[str]]:
    """The strongly connected components (size > 1, or self-loops) of the module-level import graph."""
    graph = {m: set() for m in modules}
    for i in found:
        if not i.in_function and i.target in graph:
            graph[i.source].add(i.target)
    index, low, on_stack, stack, out = {}, {}, set(), [], []

    def visit(v):  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


@pytest.fixture(scope="module")
def package():
    modules = package_sources()
    return modules, imports(modules)


def test_walker_sees_the_whole_package(package):
    modules, found = package
    assert {"jaxmbl", "jaxmbl._cli", "jaxmbl._core.kernels", "jaxmbl.sweep._runner"} <= set(modules)
    assert {group(m) for m in modules} == set(LAYERS)
    assert len(found) > 100


def test_no_private_imports_across_subpackages(package):
    bad = private_violations(package[1])
    assert not bad, "\n".join(map(str, bad))


def test_no_imports_inside_functions(package):
    bad = function_violations(package[1])
    assert not bad, "\n".join(map(str, bad))


def test_imports_go_down_the_layers(package):
    bad = layer_violations(package[1])
    assert not bad, "\n".join(map(str, bad))


def test_claims_use_the_public_namespace(package):
    bad = claim_violations(package[1])
    assert not bad, "\n".join(map(str, bad))


def test_no_import_cycles(package):
    bad = cycles(package[1], package[0])
    assert not bad, "\n".join(map(str, bad))


# -- the checker itself, on a synthetic package --
SYNTHETIC = {
    "jaxmbl": "from jaxmbl.sweep import run\n",
    "jaxmbl._core": "",
    "jaxmbl._core.a": "from jaxmbl._swingle.b import f\n",
    "jaxmbl._swingle": "",
    "jaxmbl._swingle.b": "from jaxmbl._core.a import _g, h\nfrom ._c import _k\n",
    "jaxmbl._swingle._c": "def f():\n    from jaxmbl._core import a\n",
    "jaxmbl.sweep": "from jaxmbl.sweep._runner import run\n",
    "jaxmbl.sweep._runner": "import jaxmbl.sweep._runner\nrun = 1\n",
    "jaxmbl._cli": "import jaxmbl.sweep._runner\nfrom jaxmbl.sweep._runner import run\nfrom jaxmbl import __version__\n",
    "jaxmbl.reproduce": "",
    "jaxmbl.reproduce.c1_x": "import jaxmbl as jm\nfrom jaxmbl._core.a import h\nfrom jaxmbl.reproduce import _base\n",
    "jaxmbl.reproduce._base": "",
}


def test_checker_catches_each_kind_of_violation():
    found = imports(SYNTHETIC)
    assert private_violations(found) == [
        "jaxmbl._cli:1 imports the private module jaxmbl.sweep._runner",
        "jaxmbl._swingle.b:1 imports private ['_g'] from jaxmbl._core.a",
    ]
    assert function_violations(found) == ["jaxmbl._swingle._c:2 imports jaxmbl._core.a inside a function"]
    assert layer_violations(found) == ["jaxmbl._core.a:1 (_core) imports jaxmbl._swingle.b from the layer above"]
    assert claim_violations(found) == [
        "jaxmbl.reproduce.c1_x:2 imports jaxmbl._core.a ['h']: claims use `import jaxmbl as jm`"
    ]
    assert cycles(found, SYNTHETIC) == [
        ["jaxmbl._core.a", "jaxmbl._swingle.b"],
        ["jaxmbl.sweep._runner"],
    ]
    # a relative import resolves inside its own package (same subpackage: allowed)
    assert Import("jaxmbl._swingle.b", "jaxmbl._swingle._c", ("_k",), 2, False) in found
