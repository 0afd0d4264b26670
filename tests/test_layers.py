"""The architecture as a test: fthc's packages are layers, and a module imports (at its top or inside a function)
only from its own layer or the layers below. A new import that runs back up fails here; one that must, for a
reason, is declared in ALLOWED with it. docs/architecture.md draws the same layers."""

from tests.test_imports import MODULES, SRC, imports_of

LAYERS = [  # lowest first; a module's layer is its first package under fthc (top-level modules by name)
    ("foundation", {"fthc", "errors", "base", "registry", "progress", "threads"}),
    ("data", {"data"}),
    ("features", {"features"}),
    ("engines", {"engines"}),
    ("models", {"models", "clustering", "metrics"}),
    ("composition", {"config", "estimator", "artefact"}),
    ("risk", {"risk"}),
    ("offer", {"offer"}),
    ("segments", {"segments"}),
    ("experiments", {"experiments"}),
    ("reports", {"reports"}),
    ("application", {"app"}),
    ("command line", {"cli"}),
]
ALLOWED: dict[tuple[str, str], str] = {}  # (module, imported module) -> why it must run up


def layer(module: str) -> int:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "fthc"
    for i, (_, members) in enumerate(LAYERS):
        if name in members:
            return i
    raise AssertionError(f"{module}: in no layer (add its package to LAYERS and to docs/architecture.md)")


def _path(module: str):
    p = SRC.joinpath(*module.split(".")[1:]).with_suffix(".py")
    return p if p.exists() else SRC.joinpath(*module.split(".")[1:], "__init__.py")


def upward_imports() -> list[str]:
    found = []
    for m in MODULES:
        for d in sorted(imports_of(_path(m), m)):
            if d == "fthc" or (m, d) in ALLOWED:  # the package root holds only the version and lazy names
                continue
            if layer(d) > layer(m):
                found.append(f"{m} ({LAYERS[layer(m)][0]}) imports {d} ({LAYERS[layer(d)][0]})")
    return found


def test_no_module_imports_from_a_layer_above_its_own():
    assert upward_imports() == []


def test_every_allowed_exception_is_still_needed():
    for (m, d), why in ALLOWED.items():
        assert why and d in imports_of(_path(m), m), f"{m} -> {d} is declared but no longer imported"


def test_the_layering_test_catches_an_import_that_runs_up(monkeypatch):
    import tests.test_layers as me

    real = me.imports_of
    monkeypatch.setattr(me, "imports_of",
                        lambda path, m: real(path, m) | ({"fthc.segments.segmenter"} if m == "fthc.engines" else set()))
    assert upward_imports() == ["fthc.engines (engines) imports fthc.segments.segmenter (segments)"]


MAX_CLASS_LINES = 250


def _code_lines(node) -> int:
    """A class's lines without its docstring (documentation is not length to read through)."""
    import ast

    doc = node.body[0] if node.body and isinstance(node.body[0], ast.Expr) and \
        isinstance(getattr(node.body[0], "value", None), ast.Constant) else None
    return node.end_lineno - node.lineno + 1 - ((doc.end_lineno - doc.lineno + 1) if doc else 0)


def test_no_class_is_longer_than_a_newcomer_reads_at_once():
    import ast

    long = [f"{p.relative_to(SRC)}: {n.name} ({_code_lines(n)} lines)" for p in SRC.rglob("*.py")
            for n in ast.walk(ast.parse(p.read_text())) if isinstance(n, ast.ClassDef)
            and _code_lines(n) > MAX_CLASS_LINES]
    assert long == [], f"split these into parts with one job each: {long}"


def test_every_parameter_of_the_public_estimators_is_documented():
    """numpydoc: each parameter of every public class and function of `fthc` has its entry under Parameters, each
    has an example, the estimators their fitted attributes."""
    import inspect
    import re

    import fthc

    public = [getattr(fthc, n) for n in fthc.__all__]
    public = [o for o in public if callable(o) and not (inspect.isclass(o) and issubclass(o, BaseException))]
    assert fthc.Segmenter in public and len(public) >= 8
    for obj in public:
        doc = inspect.getdoc(obj) or ""
        name = obj.__name__
        assert "Parameters\n----------" in doc and "Examples\n--------" in doc, name
        if inspect.isclass(obj) and obj.__name__ in ("Segmenter", "Clusterer"):  # estimators: fitted attributes
            assert "Attributes\n----------" in doc, name
        section = re.split(r"\n(?:Attributes|Returns|Examples)\n-+", doc.split("Parameters\n----------", 1)[1])[0]
        documented = {n.strip().lstrip("*") for line in section.splitlines() if re.match(r"^\S", line)
                      for n in line.split(":", 1)[0].split(",")}
        params = [p for p in inspect.signature(obj).parameters if p != "self"]
        assert [p for p in params if p not in documented] == [], f"{name}: undocumented parameters"
    assert not hasattr(fthc.Segmenter, "set_fit_request")  # no page of metadata-routing boilerplate in help()


# The Segmenter is the segments layer's own: the application builds its `SegmentationResult`
# (`fthc.segments.result`) once, and every other module reads that or plain frames, never the Segmenter itself.
SEGMENTER_OWNERS = {"segments", "app"}
SEGMENTER_NAMES = {"seg", "segmenter"}


def segmenter_readers(module: str, text: str) -> list[str]:
    """Where `module` (its source `text`) imports `fthc.segments.segmenter` or the `Segmenter` class, or takes a
    Segmenter: a parameter annotated `Segmenter`, or one named `seg` / `segmenter` whose attributes the function
    reads (`seg.labels_`; an array of segments named `seg`, as in `fthc.data.synth`, is indexed, not read so)."""
    import ast

    path = SRC.joinpath(*module.split(".")[1:])
    package = module if path.is_dir() else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rsplit(".", 1)[0]
            target = f"{base}.{node.module}" if node.level and node.module else (base if node.level else node.module)
            names = {a.name for a in node.names}
            if target == "fthc.segments.segmenter" or (target in ("fthc.segments", "fthc") and "Segmenter" in names) \
                    or (target == "fthc.segments" and "segmenter" in names):
                found.append(f"{module}:{node.lineno} imports the Segmenter ({target})")
        elif isinstance(node, ast.Import) and any(a.name == "fthc.segments.segmenter" for a in node.names):
            found.append(f"{module}:{node.lineno} imports fthc.segments.segmenter")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            read = {n.value.id for n in ast.walk(node)
                    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
            read |= {n.args[0].id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                     and n.func.id in ("getattr", "hasattr") and n.args and isinstance(n.args[0], ast.Name)}
            for arg in a.posonlyargs + a.args + a.kwonlyargs:
                said = ast.unparse(arg.annotation) if arg.annotation is not None else ""
                if (arg.arg in SEGMENTER_NAMES and arg.arg in read) or "Segmenter" in said:
                    where = getattr(node, "name", "lambda")
                    found.append(f"{module}:{node.lineno} {where}() takes a Segmenter ({arg.arg})")
    return found


def _outside_the_owners():
    for m in MODULES:
        parts = m.split(".")
        if len(parts) > 1 and parts[1] in SEGMENTER_OWNERS:
            continue
        yield m, _path(m).read_text()


def test_no_module_outside_segments_and_app_receives_or_imports_a_segmenter():
    assert [f for m, text in _outside_the_owners() for f in segmenter_readers(m, text)] == []


def test_the_segmenter_check_catches_a_report_that_takes_one():
    assert segmenter_readers("fthc.reports.risk_report", "def judged_rate(seg) -> float:\n    return seg.x_\n") == \
        ["fthc.reports.risk_report:1 judged_rate() takes a Segmenter (seg)"]
    assert segmenter_readers("fthc.data.synth", "def planted(seg):\n    return seg[0]\n") == []
    assert segmenter_readers("fthc.risk.outcome_check", "from ..segments.segmenter import Segmenter\n") == \
        ["fthc.risk.outcome_check:1 imports the Segmenter (fthc.segments.segmenter)"]
    assert segmenter_readers("fthc.reports.x", "def f(r: 'Segmenter'):\n    pass\n") == \
        ["fthc.reports.x:1 f() takes a Segmenter (r)"]


MAX_MODULE_LINES = 500


def test_no_module_is_longer_than_a_newcomer_reads_at_once():
    long = [f"{p.relative_to(SRC)} ({n} lines)" for p in SRC.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]
    assert long == [], f"split these by concept: {long}"
