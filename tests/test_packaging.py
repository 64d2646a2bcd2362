"""Packaging checks: pyproject.toml, poetry.lock and the exported requirements files agree.

The lock is made by plain ``poetry lock`` and the requirements files by the
``poetry export`` commands README.md gives; these tests make sure no package source
is committed, that the README's export commands use the flags checked here, and that
the committed requirements files are exactly what the lock exports. All Poetry
commands used here work offline.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "poetry.lock"
README = ROOT / "README.md"

# Must match the export commands in README.md (test_readme_exports_with_the_same_flags).
EXPORTS = {
    "requirements.txt": ["export", "-f", "requirements.txt"],
    "requirements-dev.txt": ["export", "-f", "requirements.txt", "--only", "dev"],
    "requirements-ray.txt": ["export", "-f", "requirements.txt", "--extras", "ray"],
}
EXPORT_IDS = ["main", "dev", "ray"]
MAIN_PACKAGES = [
    "streamlit",
    "opencv-python-headless",
    "tensorflow",
    "keras",
    "numpy",
    "pillow",
    "filelock",
]

# `name==version ; markers \` -- the first line of each requirement in an export.
PIN_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")
HASH_RE = re.compile(r"--hash=(sha256:[0-9a-f]{64})")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def poetry_cmd() -> list[str]:
    """Poetry (with poetry-plugin-export), preferably from this interpreter's env."""
    if importlib.util.find_spec("poetry") and importlib.util.find_spec("poetry_plugin_export"):
        return [sys.executable, "-m", "poetry"]
    exe = shutil.which("poetry")
    if exe is None:
        pytest.fail("poetry is not installed; `pip install -r requirements-dev.txt`")
    return [exe]


def _run_poetry(poetry_cmd: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POETRY_NO_INTERACTION": "1", "NO_COLOR": "1"}
    return subprocess.run(
        [*poetry_cmd, "--no-ansi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def lock_data() -> dict:
    return tomllib.loads(LOCK.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def locked(lock_data: dict) -> dict[tuple[str, str], set[str]]:
    """(canonical name, version) -> set of sha256 hashes recorded in poetry.lock."""
    return {
        (_canon(pkg["name"]), pkg["version"]): {f["hash"] for f in pkg.get("files", [])}
        for pkg in lock_data["package"]
    }


def _parse_requirements(text: str) -> dict[tuple[str, str], set[str]]:
    """Group an exported requirements file into (name, version) -> hashes."""
    pins: dict[tuple[str, str], set[str]] = {}
    current: set[str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith((" ", "\t")):
            assert current is not None, f"continuation line without a requirement: {line!r}"
            current.update(HASH_RE.findall(line))
            continue
        match = PIN_RE.match(line)
        assert match, f"requirement is not pinned as name==version: {line!r}"
        current = pins.setdefault((_canon(match["name"]), match["version"]), set())
        current.update(HASH_RE.findall(line))
    return pins


# --- (a) no custom package source is committed --------------------------------


def test_pyproject_has_no_custom_source() -> None:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    poetry = data.get("tool", {}).get("poetry", {})
    assert "source" not in poetry, "[[tool.poetry.source]] must not be committed"
    groups = [poetry.get("dependencies", {})] + [
        g.get("dependencies", {}) for g in poetry.get("group", {}).values()
    ]
    for deps in groups:
        for name, spec in deps.items():
            specs = spec if isinstance(spec, list) else [spec]
            assert not any(isinstance(s, dict) and "source" in s for s in specs), name


def test_lock_has_no_package_source(lock_data: dict) -> None:
    with_source = [pkg["name"] for pkg in lock_data["package"] if "source" in pkg]
    assert with_source == []
    assert "[package.source]" not in LOCK.read_text(encoding="utf-8")


# --- (b) the lock is consistent with pyproject.toml ----------------------------


def test_poetry_check_lock(poetry_cmd: list[str]) -> None:
    result = _run_poetry(poetry_cmd, "check", "--lock")
    assert result.returncode == 0, result.stdout + result.stderr


# --- (c) the committed requirements files are exactly what the lock exports -----


def test_readme_exports_with_the_same_flags() -> None:
    """README.md's `poetry run poetry export ... --output FILE` lines are the ones tested here."""
    readme = README.read_text(encoding="utf-8")
    documented = {
        match["output"]: match["args"].split()
        for match in re.finditer(
            r"^\s*poetry run poetry (?P<args>export .*?) --output (?P<output>\S+)$", readme, re.M
        )
    }
    assert documented == EXPORTS


@pytest.mark.parametrize("filename", list(EXPORTS), ids=EXPORT_IDS)
def test_export_is_reproducible(poetry_cmd: list[str], tmp_path: Path, filename: str) -> None:
    out = tmp_path / filename
    result = _run_poetry(poetry_cmd, *EXPORTS[filename], "--output", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    committed = (ROOT / filename).read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8").rstrip("\n") == committed.rstrip("\n"), (
        f"{filename} is stale; run the `poetry export` commands in README.md"
    )


# --- (d) every pin matches poetry.lock ----------------------------------------


@pytest.mark.parametrize("filename", list(EXPORTS), ids=EXPORT_IDS)
def test_pins_match_lock(filename: str, locked: dict[tuple[str, str], set[str]]) -> None:
    pins = _parse_requirements((ROOT / filename).read_text(encoding="utf-8"))
    assert pins, f"{filename} pins nothing"
    for (name, version), hashes in pins.items():
        assert (name, version) in locked, f"{name}=={version} is not in poetry.lock"
        assert hashes, f"{name}=={version} has no --hash"
        assert hashes == locked[(name, version)], f"{name}=={version}: hashes differ from lock"


@pytest.mark.parametrize("package", MAIN_PACKAGES)
def test_main_dependency_is_pinned(package: str) -> None:
    pins = _parse_requirements((ROOT / "requirements.txt").read_text(encoding="utf-8"))
    assert any(name == package for name, _ in pins), f"{package} missing from requirements.txt"


def test_ray_is_an_optional_extra_only() -> None:
    main = _parse_requirements((ROOT / "requirements.txt").read_text(encoding="utf-8"))
    ray = _parse_requirements((ROOT / "requirements-ray.txt").read_text(encoding="utf-8"))
    assert not any(name == "ray" for name, _ in main)
    assert any(name == "ray" for name, _ in ray)
    assert set(main) <= set(ray)  # the ray file is the main one plus the extra


# --- (e) the wheel carries the shipped models, and installed code finds them ----------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built in-process with poetry-core (offline, a second or two)."""
    pytest.importorskip("poetry.core")
    from poetry.core.factory import Factory
    from poetry.core.masonry.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("wheel")
    name = WheelBuilder.make_in(Factory().create_poetry(ROOT), out)
    return out / name


def test_wheel_carries_the_shipped_models_inside_the_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
    shipped = {
        p.relative_to(ROOT / "models").as_posix()
        for p in (ROOT / "models").rglob("*")
        if p.suffix in (".keras", ".json")
    }
    assert "judge/verifier.keras" in shipped
    assert {"mlp.keras", "mlp.json"} <= shipped
    assert {f"digit_pipeline/models/{name}" for name in shipped} <= names
    assert not any(n.startswith("models/") for n in names), "no top-level models/ in site-packages"
    assert {"digit_pipeline/benchmarking/run.py", "digit_pipeline/training/train.py"} <= names


def test_installed_wheel_finds_its_models_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as whl:  # a pure-Python wheel installs by unpacking
        whl.extractall(site)
    code = (
        "import digit_pipeline.model as m; "
        "print(m.__file__); print(m.MODELS_DIR); print(m.DEFAULT_MODEL.is_file())"
    )
    env = {k: v for k, v in os.environ.items() if k != "DIGIT_WORKBENCH_SHIPPED_MODELS"}
    env["PYTHONPATH"] = str(site)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    module_file, models_dir, found = done.stdout.split()
    assert Path(module_file).is_relative_to(site)
    assert Path(models_dir) == site / "digit_pipeline" / "models"
    assert found == "True"


def test_shipped_models_setting_wins_and_is_named_when_missing(tmp_path: Path) -> None:
    from digit_pipeline.model import (
        MODELS_DIR,
        SHIPPED_MODELS_ENV,
        ModelLoadError,
        load_model,
        shipped_models_dir,
    )

    assert shipped_models_dir({SHIPPED_MODELS_ENV: str(tmp_path)}) == tmp_path
    assert shipped_models_dir({}) == ROOT / "models" == MODELS_DIR  # this checkout
    with pytest.raises(ModelLoadError, match=SHIPPED_MODELS_ENV):
        load_model(MODELS_DIR / "not-shipped.keras")
    with pytest.raises(ModelLoadError) as error:
        load_model(tmp_path / "elsewhere.keras")
    assert SHIPPED_MODELS_ENV not in str(error.value)  # only shipped models get the hint
