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


def _policy_classes() -> tuple[set[str], set[str]]:
    """The names of the registry's module classes and of the trained-model family classes, and
    the plain (non-callable) attributes those module classes define: what policy code would
    test with ``is``/``isinstance`` or read off a module."""
    classes = {models.get(n).cls for n in models.names()}
    family = set(TrainedModel._by_family.values())
    names = {c.__name__ for c in classes | family}
    attrs = {
        k
        for c in classes
        for k, v in vars(c).items()
        if not k.startswith("_") and not callable(v) and not isinstance(v, property)
    }
    return names, attrs


def policy_checks(text: str, names: set[str], attrs: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops
        ):
            sides = [_source(s, text) for s in (node.left, *node.comparators)]
            if any(s.split(".")[-1] in names for s in sides):
                found.append(f"{node.lineno}: {_source(node, text)}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("isinstance", "issubclass")
            and len(node.args) == 2
            and any(n in _source(node.args[1], text) for n in names)
        ):
            found.append(f"{node.lineno}: {_source(node, text)}")
        if (
            isinstance(node, ast.Attribute)
            and node.attr in attrs
            and _source(node.value, text).split(".")[-1] in ("module", "cls")
        ):
            found.append(f"{node.lineno}: {_source(node, text)}")
    return found


def test_no_class_policy_outside_the_registry():
    """Nothing outside ``models/`` decides by a model's class (``x is SomeModel``,
    ``isinstance(x, GANModel)``) or by a plain attribute read off its module
    (``self.module.score_name``): the registry entry names the family, the task and the
    outputs."""
    names, attrs = _policy_classes()
    found = []
    for name, (path, _) in modules().items():
        if name.startswith("simplechrome.models"):
            continue
        found += [f"{path.name}:{f}" for f in policy_checks(path.read_text(), names, attrs)]
    assert found == []


def test_the_class_policy_check_sees_planted_cases():
    names, attrs = _policy_classes()
    assert {"GANModel", "AutoregressiveGenerator"} <= names
    attrs = attrs | {"score_name"}  # what the modules held before the registry did
    planted = (
        "if self.entry.cls is AutoregressiveGenerator:\n    pass\n"
        "ok = isinstance(trained, GANModel)\n"
        "name = self.module.score_name\n"
    )
    assert len(policy_checks(planted, names, attrs)) == 3
