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
def test_no_module_is_over_500_lines(path):
    assert len(path.read_text().splitlines()) <= 500


def calls(path) -> set[str]:
    return {
        node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
    }


def test_one_reading_path():
    """The stage chain is built in pipeline.py, the reading in reading.py; nowhere else."""
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "workbench").rglob("*.py"), ROOT / "streamlit_app.py"]
    found = {path.relative_to(ROOT).as_posix(): calls(path) for path in files}
    chains = sorted(f for f, c in found.items() if {"find_boxes", "cut_digits"} & c)
    readers = sorted(f for f, c in found.items() if {"classify", "segment"} & c)
    assert chains == ["digit_pipeline/pipeline.py"]
    assert readers == ["digit_pipeline/pipeline.py", "digit_pipeline/reading.py"]
    assert "read_sheet" in found["workbench/cache.py"]  # the app reads through it
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
