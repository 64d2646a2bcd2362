"""The layout shows the architecture: a pure package, small modules, one reading path."""

from __future__ import annotations

import ast

import pytest
from conftest import ROOT

PACKAGE = ROOT / "digit_pipeline"
MODULES = sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "workbench").rglob("*.py"))


def imports(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.stem)
def test_the_package_never_imports_streamlit(path):
    assert not {n for n in imports(path) if n.split(".")[0] == "streamlit"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400


def calls(path) -> set[str]:
    return {
        node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
    }


def test_one_reading_path():
    """The stage chain is built in reading/pipeline.py, the reading in reading/sheet.py."""
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "workbench").rglob("*.py"), ROOT / "streamlit_app.py"]
    found = {path.relative_to(ROOT).as_posix(): calls(path) for path in files}
    chains = sorted(f for f, c in found.items() if "find_boxes" in c)
    cutters = sorted(f for f, c in found.items() if "cut_digits" in c)
    readers = sorted(f for f, c in found.items() if {"classify", "segment"} & c)
    assert chains == ["digit_pipeline/reading/pipeline.py"]
    # the yardstick of real photos cuts its true boxes with the reader's own cut
    assert cutters == [
        "digit_pipeline/reading/pipeline.py",
        "digit_pipeline/training/yardsticks.py",
    ]
    assert readers == ["digit_pipeline/reading/pipeline.py", "digit_pipeline/reading/sheet.py"]
    assert "read_sheet" in found["digit_pipeline/reading/reader.py"]  # the cached reader
    assert "Reader" in found["workbench/cache.py"]  # the app reads through it
    assert "read_sheet" in found["digit_pipeline/batch/engines.py"]  # read, every engine


def test_the_stage_names_are_exported_from_the_package():
    import digit_pipeline

    for name in (
        "blur_image",
        "edges_canny",
        "dilate_image",
        "find_contours_and_boxes",
        "extract_roi_black_white",
        "resize_rois",
        "read_sheet",
        "prepare",
        "PipelineParams",
    ):
        assert callable(getattr(digit_pipeline, name)), name


def test_the_reading_path_imports_no_training_benchmarking_or_user_data():
    import subprocess
    import sys

    code = (
        "import sys, digit_pipeline.reading; "
        "print(sorted(m for m in sys.modules if m.startswith('digit_pipeline.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = done.stdout
    for part in ("training", "benchmarking", "userdata", "streamlit", "keras"):
        assert f"digit_pipeline.{part}" not in loaded and f"'{part}" not in loaded, loaded


def runtime_imports(path) -> set[str]:
    """The package modules ``path`` imports when it runs (``TYPE_CHECKING`` blocks aside)."""
    tree = ast.parse(path.read_text())
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    if path.name == "__init__.py":
        module = module.removesuffix(".__init__")
        package = module
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            name = ".".join(base + ([node.module] if node.module else []))
        else:
            name = node.module or ""
        if name.startswith("digit_pipeline"):
            found.add(name)
    return found


def module_name(path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def test_the_package_has_no_import_cycle():
    # autofit <-> reading was the one arrow that ran back up: the fit now proposes
    # candidates (reading.autofit.candidates) and the reader scores them (fit_sheet).
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {
        name: {r for i in runtime_imports(path) if (r := resolve(i)) and r != name}
        for name, path in modules.items()
    }
    packages = {n for n, p in modules.items() if p.name == "__init__.py"}

    def cycle_from(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start and not (start in packages or node in packages):
                    return [*trail, nxt]
                if nxt not in seen and nxt not in packages:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
        return None

    cycles = [c for n in modules if n not in packages and (c := cycle_from(n))]
    assert not cycles, cycles[0]


def test_the_reader_imports_run_one_way():
    """params <- prepared <- pipeline <- autofit <- judge <- sheet <- reader: none imports
    one above it."""
    order = [
        "params",
        "prepared",
        "pipeline",
        "autofit",
        "results",
        "judge",
        "orientation",
        "sheet",
        "reader",
    ]
    reading = PACKAGE / "reading"
    for path in [*reading.glob("*.py"), *(reading / "judge").glob("*.py")]:
        rel = path.relative_to(reading).parts[0].removesuffix(".py")
        if rel == "__init__":
            continue
        mine = order.index(rel)
        for name in runtime_imports(path):
            parts = name.split(".")
            if parts[:2] == ["digit_pipeline", "reading"] and len(parts) > 2:
                assert order.index(parts[2]) <= mine, (path.name, name)


SHARED_HELPERS = {"aliases.py", "caching.py", "validation.py"}
"""The plain modules at the package's top level: helpers every part shares (at most four)."""

SUBPACKAGES = {
    "reading", "stages", "io", "model", "training", "batch", "benchmarking", "userdata", "cli",
}  # fmt: skip


def test_the_top_level_holds_subpackages_and_a_few_shared_helpers():
    """digit_pipeline/ holds __init__, __main__, py.typed, subpackages and SHARED_HELPERS."""
    entries = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    plain = {n for n in entries if n.endswith(".py")} - {"__init__.py", "__main__.py"}
    assert plain == SHARED_HELPERS and len(plain) <= 4, plain
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages >= SUBPACKAGES, SUBPACKAGES - packages
    # nothing else; models/ is where the wheel puts the shipped models (not in a checkout)
    others = entries - plain - packages - {"__init__.py", "__main__.py", "py.typed", "models"}
    assert not others, others
