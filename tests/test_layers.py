"""The layering of src/posekit (../shared/DESIGN.md): no import from a lower layer to a higher one, not
even lazily inside a function, and no import cycle between packages.

Every module is parsed with `ast`; its imports anywhere in the file count, and so does a string that
names a posekit module exactly (a posekit.registry entry such as ("posekit.track.oks", "OksTracker")),
since that is an import made later by name.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

SRC = Path(__file__).resolve().parents[1] / "src"

# DESIGN.md's layers, lowest first, each with the packages / top-level modules of src/posekit in it.
# Three places differ from DESIGN.md's list, where its own lines ask for it (lead: reorder DESIGN.md):
# - skeleton sits below io: it is "used by all", and io's COCO writer, COCO people reader and Labelme
#   reader need the keypoint names;
# - evaluate sits below train: training validates every epoch (train/loop.py -> evaluate), the direction
#   issue 17 keeps when it moves COCO reading out of train;
# - ui sits below cli: the cli's `posekit ui` command starts the UI (DESIGN.md's cli line lists ui).
# Not named in DESIGN.md: errors, registry and choices (the standard library only) go with types;
# modelstore and paths (where model files live) go with models; convert (the Labelme -> COCO job) with
# the jobs; `posekit` itself (the top-level __init__) is api; __main__ is cli.
LAYERS: list[tuple[str, set[str]]] = [
    ("types", {"types", "errors", "registry", "console", "choices"}),
    ("skeleton", {"skeleton"}),
    ("io", {"io"}),
    ("config", {"config"}),
    ("geometry", {"geometry", "one_euro"}),
    ("runtime", {"runtime"}),
    ("models", {"models", "modelstore", "paths"}),
    ("families", {"families"}),
    ("detectors", {"detectors"}),
    ("pose", {"pose"}),
    ("track", {"track"}),
    ("render", {"render"}),
    ("convert", {"convert"}),
    ("evaluate", {"evaluate"}),
    ("train", {"train"}),
    ("export", {"export"}),
    ("infer", {"infer"}),
    ("batch", {"batching"}),
    ("api", {"posekit", "api"}),
    ("ui", {"ui"}),
    ("cli", {"cli", "__main__"}),
]

# Known violations, each in a file another helper of issue 17 is changing right now: (importing module,
# imported module) -> why, and who removes it. The lead empties this after merging; an entry that no
# longer occurs fails test_known_violations_still_occur, so it cannot go stale.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {
}


class Import(NamedTuple):
    """One import in the source: importing module, imported module, file (relative to src) and line."""

    importer: str
    target: str
    path: str
    line: int


def module_name(path: Path, src: Path) -> str:
    """posekit/a/b.py -> posekit.a.b; posekit/a/__init__.py -> posekit.a."""
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def find_imports(src: Path) -> list[Import]:
    """Every import of a posekit module by a module under src/posekit, wherever it stands in the file."""
    files = {module_name(p, src): p for p in sorted((src / "posekit").rglob("*.py"))}
    found = []
    for importer, path in files.items():
        package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for target in _targets(node, package, files):
                if target == "posekit" or target.startswith("posekit."):
                    found.append(Import(importer, target, str(path.relative_to(src)), node.lineno))
    return found


def _targets(node: ast.AST, package: str, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parent = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parent, *([node.module] if node.module else [])])
        # `from posekit.a import b` imports the module posekit.a.b when there is one
        return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value:
        return [node.value] if node.value in modules else []
    return []


def unit(module: str) -> str:
    """The package or top-level module of src/posekit a module belongs to ("posekit" for the top)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer_index() -> dict[str, int]:
    """Unit -> position of its layer (0 = lowest)."""
    return {u: i for i, (_, units) in enumerate(LAYERS) for u in units}


def upward_imports(imports: list[Import], known: set[tuple[str, str]]) -> list[str]:
    """Each import from a lower layer to a higher one, not in `known`, as 'file:line: ...'."""
    rank = layer_index()
    out = []
    for imp in imports:
        low, high = rank[unit(imp.importer)], rank[unit(imp.target)]
        if high > low and (imp.importer, imp.target) not in known:
            where = f"{imp.path}:{imp.line}"
            out.append(f"{where}: {imp.importer} ({LAYERS[low][0]}) imports {imp.target} ({LAYERS[high][0]})")
    return out


def package_cycles(imports: list[Import], known: set[tuple[str, str]]) -> list[list[str]]:
    """The groups of packages that import each other in a circle (strongly connected, 2+ packages),
    each as the sorted 'importer -> imported' module pairs that close it."""
    edges: dict[str, set[str]] = {}
    for imp in imports:
        a, b = unit(imp.importer), unit(imp.target)
        if a != b and (imp.importer, imp.target) not in known:
            edges.setdefault(a, set()).add(b)
            edges.setdefault(b, set())
    groups = [g for g in _strongly_connected(edges) if len(g) > 1]
    return [
        sorted(
            {
                f"{imp.importer} -> {imp.target}"
                for imp in imports
                if unit(imp.importer) in group
                and unit(imp.target) in group
                and unit(imp.importer) != unit(imp.target)
                and (imp.importer, imp.target) not in known
            }
        )
        for group in groups
    ]


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of a small graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            groups.append(group)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_every_package_has_a_layer():
    imports = find_imports(SRC)
    units = {unit(module_name(p, SRC)) for p in (SRC / "posekit").rglob("*.py")}
    units |= {unit(imp.target) for imp in imports}
    assert sorted(units - set(layer_index())) == [], "place these in LAYERS (DESIGN.md's layer list)"


def test_no_import_goes_up_a_layer():
    problems = upward_imports(find_imports(SRC), set(KNOWN_VIOLATIONS))
    assert problems == [], "imports from a lower layer to a higher one:\n" + "\n".join(problems)


def test_no_import_cycle_between_packages():
    cycles = package_cycles(find_imports(SRC), set(KNOWN_VIOLATIONS))
    assert cycles == [], "packages importing each other:\n" + "\n".join(", ".join(c) for c in cycles)


def test_known_violations_still_occur():
    rank = layer_index()
    seen = {(imp.importer, imp.target) for imp in find_imports(SRC)}
    stale = sorted(set(KNOWN_VIOLATIONS) - seen)
    assert stale == [], f"fixed: delete these from KNOWN_VIOLATIONS: {stale}"
    # each entry is a real violation: an upward import, or one half of a cycle between packages
    for importer, target in KNOWN_VIOLATIONS:
        upward = rank[unit(target)] > rank[unit(importer)]
        assert upward or (target, importer) in KNOWN_VIOLATIONS, (importer, target)


def test_the_checks_catch_lazy_upward_imports_registry_names_and_cycles(tmp_path):
    """On a small made-up tree: a function-level import from io up to ui, a registry string naming a
    higher module, a relative import, and a cycle between two packages of the same layer."""
    files = {
        "posekit/__init__.py": "",
        "posekit/types.py": "from posekit.errors import PosekitError\n",
        "posekit/errors.py": "def f():\n    from posekit import types\n",
        "posekit/io/__init__.py": "",
        "posekit/io/a.py": "import numpy\n\n\ndef f():\n    import posekit.ui.b\n",
        "posekit/io/c.py": "from . import a\nfrom .a import f\n",
        "posekit/ui/__init__.py": "",
        "posekit/ui/b.py": "from posekit.io import a\n",
        "posekit/track/__init__.py": 'TRACKERS = {"x": ("posekit.train.loop", "Loop")}\n',
        "posekit/train/__init__.py": "",
        "posekit/train/loop.py": "from posekit.track import TRACKERS\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    imports = find_imports(tmp_path)
    assert sorted((i.importer, i.target, i.line) for i in imports) == [
        ("posekit.errors", "posekit.types", 2),
        ("posekit.io.a", "posekit.ui.b", 5),
        ("posekit.io.c", "posekit.io.a", 1),
        ("posekit.io.c", "posekit.io.a", 2),
        ("posekit.track", "posekit.train.loop", 1),
        ("posekit.train.loop", "posekit.track", 1),
        ("posekit.types", "posekit.errors", 1),
        ("posekit.ui.b", "posekit.io.a", 1),
    ]
    problems = upward_imports(imports, set())
    assert [p.split(": ", 1)[1] for p in problems] == [
        "posekit.io.a (io) imports posekit.ui.b (ui)",
        "posekit.track (track) imports posekit.train.loop (train)",
    ]
    assert sorted(package_cycles(imports, set())) == [
        ["posekit.errors -> posekit.types", "posekit.types -> posekit.errors"],
        ["posekit.io.a -> posekit.ui.b", "posekit.ui.b -> posekit.io.a"],
        ["posekit.track -> posekit.train.loop", "posekit.train.loop -> posekit.track"],
    ]
    known = {("posekit.io.a", "posekit.ui.b")}
    assert len(upward_imports(imports, known)) == 1
    assert len(package_cycles(imports, known)) == 2
