"""No test reads or writes the real home folder (see conftest: the autouse ``home``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import REAL_HOME, ROOT, home_snapshot, load_truth, sample_sheets

from digit_pipeline.training.finetune import user_models_dir
from digit_pipeline.userdata import Dataset, default_dir


def test_every_folder_the_app_uses_is_in_the_test_home(home):
    assert home != REAL_HOME and not home.is_relative_to(REAL_HOME)
    assert Path.home() == home and Path("~").expanduser() == home
    assert default_dir() == home / "dataset"
    assert user_models_dir() == home / "models"


def test_the_next_test_gets_a_fresh_home(home):
    assert list(home.iterdir()) == []  # nothing left by any earlier test


SAVE_IN_THE_APP = textwrap.dedent(
    """
    from streamlit.testing.v1 import AppTest
    import sys

    at = AppTest.from_file(sys.argv[1], default_timeout=180)
    at.run()
    at.selectbox(key="source").set_value(sys.argv[2]).run()
    at.button(key="predict").click().run()
    at.button(key="save").click().run()
    assert not at.exception, at.exception
    print(next(s.value for s in at.success if s.value.startswith("Saved to")))
    """
)


def test_the_app_saves_under_home_and_nowhere_else(tmp_path):
    """With only HOME set (no DIGIT_WORKBENCH_* at all), a save lands in $HOME's
    .digit_workbench, and the real home's is exactly as it was."""
    before = home_snapshot()
    fake_home = tmp_path / "someone"
    fake_home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIT_WORKBENCH_")}
    env.update(HOME=str(fake_home), PYTHONPATH=str(ROOT))
    sheet = sample_sheets()[0]
    done = subprocess.run(
        [sys.executable, "-c", SAVE_IN_THE_APP, str(ROOT / "streamlit_app.py"), sheet.name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    folder = fake_home / ".digit_workbench" / "dataset"
    assert f"Saved to {folder}:" in done.stdout
    assert len(Dataset(folder).samples()) == len(load_truth(sheet)["digits"])
    assert home_snapshot(fake_home) is not None
    assert home_snapshot() == before  # the real ~/.digit_workbench: untouched
