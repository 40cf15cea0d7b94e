"""The wheel carries config/ and templates/, and the installed command works from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_wheel_installs_and_runs_from_an_unrelated_folder(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
    )
    [wheel] = dist.glob("csat-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for part in (
        "csat/_data/config/weights.yaml",
        "csat/_data/config/weights.schema.json",
        "csat/_data/templates/README.md",
        "csat/py.typed",
    ):
        assert part in names, part

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    # Dependencies come from the test environment (a plain path entry, so its editable csat is
    # not picked up); csat itself is installed fresh from the wheel.
    site = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--force-reinstall",
            str(wheel),
        ],
        check=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("CSAT_CONFIG", "PYTHONPATH")}
    env["COLUMNS"] = "200"
    result = subprocess.run(
        [str(bin_dir / "csat"), "config", "check"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "产品质量" in result.stdout and "Rules hash" in result.stdout
    assert str(env_dir) in result.stdout.replace("\n", "")  # the packaged copy, not the repo's

    module = subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "csat",
            "score",
            str(ROOT / "examples" / "surveys-2024H1.xlsx"),
            "--json",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=env,
    )
    assert module.returncode == 0, module.stderr
    assert '"scored": 30' in module.stdout
