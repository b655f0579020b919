"""The package's shape: layers import only downwards, no cycles, no duck-typed model policy.

Layers (``../shared/DESIGN.md``): leaf modules (errors, ids, config, _io, _version) < data <
models < train < interpret < experiments < report < the API (api, demo, info, pretrained) < cli
< the package façade. Every import counts, module-level or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from simplechrome import models
from simplechrome.train import TrainedModel

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "simplechrome"
LAYERS = ["data", "models", "train", "interpret", "experiments", "report"]


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return 100  # the façade: nothing inside imports it
    if parts[1] in LAYERS:
        return 10 + LAYERS.index(parts[1])
    if parts[1] in ("api", "demo", "info", "pretrained"):
        return 30
    if parts[1] in ("cli", "__main__"):
        return 40
    return 0  # leaf modules


def modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """``{module: modules it imports}`` and the imports of package modules that do not exist."""
    mods = modules()
    edges: dict[str, set[str]] = {}
    missing = []
    for name, (path, package) in mods.items():
        base = name if package else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = base.split(".")
                    parts = parts[: len(parts) - (node.level - 1)]
                    target = ".".join(parts + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("simplechrome"):
                    continue
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    targets.add(full if full in mods else target)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("simplechrome")}
        targets.discard(name)
        missing += [(name, t) for t in targets if t not in mods]
        edges[name] = {t for t in targets if t in mods}
    return edges, missing


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_and_no_upward_imports():
    edges, missing = import_graph()
    assert not missing, f"imports of modules that do not exist: {missing}"
    assert cycles(edges) == []
    upward = [(a, b) for a, targets in edges.items() for b in targets if layer(b) > layer(a)]
    assert upward == [], f"imports from a lower layer to a higher one: {upward}"


def test_the_checker_sees_a_planted_cycle_and_an_upward_import():
    edges = {"simplechrome.data.a": {"simplechrome.train.b"}, "simplechrome.train.b": set()}
    assert [(a, b) for a, ts in edges.items() for b in ts if layer(b) > layer(a)]
    edges = {"x": {"y"}, "y": {"z"}, "z": {"x"}}
    assert cycles(edges) == [["x", "y", "z"]]


def _source(node: ast.AST, text: str) -> str:
    return ast.get_source_segment(text, node) or ""


def test_no_duck_typed_policy_and_no_branch_on_a_model_name():
    """Nothing outside ``models/`` asks a model object what it is (``getattr``/``hasattr`` on a
    model, module or class) or compares a model's name with a registry name: the registry
    entry says it."""
    names = set(models.names())
    found = []
    for name, (path, _) in modules().items():
        if name.startswith("simplechrome.models"):
            continue
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and node.args
            ):
                first = _source(node.args[0], text)
                if any(w in first for w in ("model", "module", "cls", "entry")):
                    found.append(f"{path.name}:{node.lineno}: {_source(node, text)}")
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                constants = {
                    s.value for s in sides if isinstance(s, ast.Constant) and s.value in names
                }
                others = " ".join(
                    _source(s, text) for s in sides if not isinstance(s, ast.Constant)
                )
                if constants and ("model" in others or "name" in others):
                    found.append(f"{path.name}:{node.lineno}: {_source(node, text)}")
    assert found == []


@pytest.mark.parametrize("name", models.names())
def test_every_output_an_entry_lists_is_implemented_by_its_family(name):
    entry = models.get(name)
    cls = TrainedModel.family_class(entry.family)
    methods = {
        "scores": "predict_scores",
        "attention": "attention",
        "latent": "embed",
        "reconstruction": "reconstruct",
        "neighbor_attention": "neighbor_attention",
        "samples": "generate",
    }
    for output in entry.outputs:
        method = methods[output]
        assert getattr(cls, method) is not getattr(TrainedModel, method), (name, output)


def test_the_command_line_stays_small():
    for path in (PACKAGE / "cli").glob("*.py"):
        assert len(path.read_text().splitlines()) < 400, path
