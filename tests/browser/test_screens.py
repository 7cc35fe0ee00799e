"""`python -m explorer screenshots`: it serves the apps itself, opens them in chromium and saves their PNGs."""

import os
import subprocess
import sys

import pytest
from PIL import Image

from explorer.cli.screens import parse_sizes, slug
from explorer.errors import ExplorerError


def explorer(*args, env=None):
    return subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


def test_screenshots_saves_each_page_and_tab_at_the_size_asked(tmp_path):
    result = explorer("screenshots", str(tmp_path / "out"), "--apps", "priors", "--sizes", "640x480", "--settle-ms", "500")
    assert result.returncode == 0, result.stderr
    shots = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert "priors-640x480.png" in shots
    assert "priors-compute-per-task-640x480.png" in shots  # a tab of /priors, saved under its label
    assert "priors-tour-640x480.png" in shots and "priors-simple-640x480.png" in shots  # views a link opens
    for name in shots:
        assert Image.open(tmp_path / "out" / name).size == (640, 480)  # the viewport, not the whole page
    assert f"{tmp_path / 'out' / 'priors-640x480.png'}" in result.stderr  # progress on stderr
    assert result.stdout == ""


def test_a_missing_chromium_is_one_line_and_exit_code_2(tmp_path):
    result = explorer("screenshots", str(tmp_path), "--apps", "priors", env={"EXPLORER_CHROMIUM": str(tmp_path / "no-chromium")})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no-chromium" in lines[0] and lines[0].startswith("error:"), result.stderr
    assert list(tmp_path.glob("*.png")) == []


def test_a_folder_that_cannot_be_made_is_one_line_and_exit_code_2(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    result = explorer("screenshots", str(tmp_path / "file" / "out"), "--apps", "priors")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: OUT_DIR:"), result.stderr


def test_sizes_and_tab_names():
    assert parse_sizes("1280x720, 1440x900") == [(1280, 720), (1440, 900)]
    assert slug("Compute per task") == "compute-per-task"
    for bad in ("1280", "1280x", "12x720", "axb", ""):
        with pytest.raises(ExplorerError, match="--sizes"):
            parse_sizes(bad)


def test_the_index_cards_follow_what_is_served_and_name_only_screenshots_that_exist(tmp_path, monkeypatch):
    from explorer.cli import serve

    (tmp_path / "priors-1280x720.png").write_bytes(b"")
    monkeypatch.setattr(serve, "SCREENS_DIR", tmp_path)
    cards = serve.index_cards([("/priors", "priors"), ("/extra", "extra")])
    assert [(c["id"], c["href"], c["thumbnail"]) for c in cards] == [
        ("tour", "./priors?tour=speed-prior-essay&step=1", ""), ("priors", "./priors", "./screens/priors-1280x720.png"), ("extra", "./extra", "")]
    assert cards[1]["about"] and cards[2]["about"] == ""
