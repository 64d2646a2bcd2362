"""``read`` over folders, globs and ZIP archives: resumable JSONL, CSV, workers, Ray."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, sample_sheets

from digit_pipeline.batch.journal import Journal, iter_records
from digit_pipeline.batch.progress import Progress
from digit_pipeline.batch.sources import expand, unsafe_member

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}


def run_cli(*args: str, cwd=ROOT, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "digit_pipeline", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env or ENV,
    )


def lines(path) -> list[dict]:
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), "a broken last line"
    return [json.loads(line) for line in data.decode().splitlines()]


def texts(records) -> dict[str, str]:
    return {r["image"].rsplit("/", 1)[-1]: r.get("text", r.get("error")) for r in records}


@pytest.fixture
def archive(tmp_path):
    """A folder (a sheet, a sheet in a subfolder, a corrupt file, a text file), a ZIP
    (a sheet, a hostile member, an absolute one) and a glob (a sheet)."""
    first, second, third, fourth = sample_sheets()[:4]
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(first, folder / first.name)
    shutil.copy(second, folder / "sub" / second.name)
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (folder / "notes.txt").write_text("not an image")
    zipped = tmp_path / "sheets.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.write(third, f"scans/{third.name}")
        z.writestr("../escaped.png", third.read_bytes())
        z.writestr("/absolute.png", third.read_bytes())
    globbed = tmp_path / "loose"
    globbed.mkdir()
    shutil.copy(fourth, globbed / fourth.name)
    return {
        "args": [str(folder), str(zipped), str(globbed / "*.jpg")],
        "sheets": [first, second, third, fourth],
    }


def test_folder_zip_and_glob_read_like_one_by_one(tmp_path, archive):
    out, table = tmp_path / "out.jsonl", tmp_path / "out.csv"
    done = run_cli(
        "read", *archive["args"], "--out", str(out), "--csv", str(table), "--workers", "2"
    )
    assert done.returncode == 1, done.stderr  # the corrupt file and the refused members
    assert "corrupt.png" in done.stderr and "Traceback" not in done.stderr
    records = lines(out)
    assert len(records) == 7  # 4 sheets, 1 corrupt, 2 refused; notes.txt skipped
    assert all(r["hash"] for r in records)
    # The workers hash what they read; for a file that is the sha256 of its bytes, the
    # resume key a rerun compares (tests/test_crash_kill.py reruns after a kill -9).
    for r in records:
        if Path(r["image"]).is_file():
            expected_hash = "sha256:" + hashlib.sha256(Path(r["image"]).read_bytes()).hexdigest()
            assert r["hash"] == expected_hash, r["image"]
    errors = {r["image"].rsplit("/", 1)[-1] for r in records if "error" in r}
    assert errors == {"corrupt.png", "escaped.png", "absolute.png"}
    assert not (tmp_path / "escaped.png").exists() and not (ROOT.parent / "escaped.png").exists()
    refused = next(r for r in records if "escaped" in r["image"])["error"]
    assert "refused" in refused and "nothing was written" in refused

    one_by_one = run_cli("read", *map(str, archive["sheets"]), "--json", "--workers", "1")
    printed = [json.loads(line) for line in one_by_one.stdout.splitlines()]
    assert not any("hash" in r for r in printed)  # --json prints read's schema, no more
    expected = texts(printed)
    got = texts(r for r in records if "error" not in r)
    assert got == expected
    rows = table.read_text().splitlines()
    assert rows[0].startswith("image,index,line,number,label,confidence")
    digits = sum(len(r["digits"]) for r in records if "error" not in r)
    assert len(rows) == 1 + digits


def test_workers_2_equal_workers_1(tmp_path, archive):
    def read(workers):
        out = tmp_path / f"w{workers}.jsonl"
        run_cli("read", *archive["args"], "--out", str(out), "--workers", workers, "--quiet")
        return [{k: v for k, v in r.items() if k != "timings_ms"} for r in lines(out)]

    assert read("2") == read("1")


def test_a_reading_killed_halfway_resumes_every_image_once(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    sheets = sample_sheets()
    for i in range(10):
        shutil.copy(sheets[i % len(sheets)], folder / f"sheet{i:02d}.jpg")
    out = tmp_path / "out.jsonl"
    args = ["read", str(folder), "--out", str(out), "--workers", "1", "--no-auto"]
    process = subprocess.Popen(
        [sys.executable, "-m", "digit_pipeline", *args],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            if out.exists() and out.read_bytes().count(b"\n") >= 3:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the reading ended before it was killed"
    first = out.read_bytes().count(b"\n")
    assert 3 <= first < 10
    with open(out, "ab") as file:  # what a kill in the middle of a write would leave
        file.write(b'{"image": "' + str(folder).encode() + b"/sheet09.jpg")

    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert f"{first} of 10 images already read" in done.stderr
    records = lines(out)
    names = sorted(r["image"].rsplit("/", 1)[-1] for r in records)
    assert names == [f"sheet{i:02d}.jpg" for i in range(10)]  # each once, none broken


def test_params_file_from_the_app_sets_the_stages(tmp_path):
    from digit_pipeline import PipelineParams

    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(PipelineParams(blur_size=9, canny_lower=41).to_dict()))
    sheet = sample_sheets()[0]
    done = run_cli("read", str(sheet), "--json", "--params", str(settings), "--blur-size", "5")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["params"]["canny_lower"] == 41  # from the file, not fitted
    assert record["params"]["blur_size"] == 5  # the option given wins
    assert "fit" not in record["timings_ms"]


@pytest.mark.skipif(
    not __import__("digit_pipeline.batch.engines").batch.engines.ray_available(),
    reason="Ray is not installed (pip install -r requirements-ray.txt)",
)
def test_engine_ray_on_a_local_instance_reads_the_same(tmp_path, archive):
    ray_out, pool_out = tmp_path / "ray.jsonl", tmp_path / "pool.jsonl"
    done = run_cli(
        "read", *archive["args"], "--out", str(ray_out), "--engine", "ray", "--workers", "2"
    )
    assert done.returncode == 1, done.stderr
    run_cli("read", *archive["args"], "--out", str(pool_out), "--workers", "1")
    ray_records = lines(ray_out)
    assert [r["image"] for r in ray_records] == [r["image"] for r in lines(pool_out)]
    assert texts(ray_records) == texts(lines(pool_out))
    again = run_cli("read", *archive["args"], "--out", str(ray_out), "--engine", "ray")
    assert "7 of 7 images already read" in again.stderr
    assert len(lines(ray_out)) == 7


NEEDS_RAY = pytest.mark.skipif(
    not __import__("digit_pipeline.batch.engines").batch.engines.ray_available(),
    reason="Ray is not installed (pip install -r requirements-ray.txt)",
)


@NEEDS_RAY
def test_engine_ray_on_an_existing_cluster_and_a_missing_one(tmp_path):
    # A cluster started apart (`ray start --head`) that asks for a token, as Ray's own
    # default does, reached with --address HOST:PORT by a driver that has the token in its
    # environment; then, once it is stopped, `--address auto` says so in one sentence
    # (exit 2), with no traceback.
    sheets = [str(p) for p in sample_sheets()[:2]]
    ray = Path(sys.executable).with_name("ray")
    port = str(20000 + os.getpid() % 20000)
    env = {**ENV, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    start = [str(ray), "start", "--head", "--port", port, "--num-cpus", "2"]
    start += ["--include-dashboard=false", "--disable-usage-stats"]
    subprocess.run(start, check=True, capture_output=True, timeout=120, env=env)
    try:
        out = tmp_path / "cluster.jsonl"
        address = f"127.0.0.1:{port}"
        args = ("--engine", "ray", "--address", address, "--out", str(out))
        done = run_cli("read", *sheets, *args, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
        local = run_cli("read", *sheets, "--json", "--workers", "1")
        assert texts(lines(out)) == texts(json.loads(x) for x in local.stdout.splitlines())
    finally:
        subprocess.run([str(ray), "stop", "--force"], capture_output=True, timeout=120, env=env)
    # (A dead HOST:PORT makes Ray wait minutes for it; `auto` fails at once.)
    gone = run_cli("read", *sheets, "--engine", "ray", "--address", "auto", "--quiet", env=env)
    assert gone.returncode == 2
    assert gone.stderr.startswith("error: cannot reach the Ray cluster at auto (")
    assert "Traceback" not in gone.stderr


# --- in process: no model, fast -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("a.png", False),
        ("scans/2024/a.png", False),
        ("../a.png", True),
        ("scans/../../a.png", True),
        ("/etc/a.png", True),
        ("C:/a.png", True),
        ("..\\a.png", True),
    ],
    ids=["plain", "nested", "parent", "nested-parent", "absolute", "drive", "backslash"],
)
def test_hostile_member_names_are_refused(name, refused):
    assert (unsafe_member(name) is not None) is refused


def test_expand_dedupes_and_reports_an_empty_glob(tmp_path):
    sheet = sample_sheets()[0]
    sources, problems = expand([str(sheet), str(sheet), str(tmp_path / "*.png")])
    assert [s.name for s in sources] == [str(sheet)]
    assert problems == [f"{tmp_path / '*.png'} matches no file."]


def test_journal_cuts_a_partial_last_line_and_knows_what_is_done(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"image": "a", "hash": "h1", "text": "1"}\n{"image": "b", "ha')
    journal = Journal(path)
    assert journal.cut == len(b'{"image": "b", "ha')
    assert journal.is_done("a", "h1") and not journal.is_done("a", "h2")
    assert not journal.is_done("b", "h1")
    journal.append({"image": "b", "hash": "h1", "text": "2"})
    journal.close()
    assert [r["image"] for r in iter_records(path)] == ["a", "b"]


def test_progress_is_silent_when_stderr_is_not_a_terminal(capsys):
    progress = Progress(3)
    progress.step()
    progress.close()
    assert capsys.readouterr().err == ""


def test_engine_ray_without_ray_says_how_to_install_it(monkeypatch, capsys):
    from digit_pipeline.batch import run
    from digit_pipeline.cli import main

    monkeypatch.setattr(run, "ray_available", lambda: False)
    assert main(["read", str(sample_sheets()[0]), "--engine", "ray"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install -r requirements-ray.txt" in err
