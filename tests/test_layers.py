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
