"""Finding input files: every readable format, odd entries skipped with a reason, byte names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA

from csat.intake.files import InputFile, discover
from csat.models import Skipped

FORM = DATA / "returned-form-zh-苏州科创.xlsx"


def _found(*paths: Path | str) -> tuple[list[str], dict[str, str]]:
    got = list(discover([str(p) for p in paths]))
    files = [g.shown for g in got if isinstance(g, InputFile)]
    skipped = {g.file: g.reason for g in got if isinstance(g, Skipped)}
    return files, skipped


def test_every_readable_format_is_found_and_others_are_skipped(tmp_path: Path) -> None:
    for name in ["a.xlsx", "b.xlsm", "c.xlsb", "d.xls", "e.ods", "f.csv", "g.tsv", "h.TXT"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "~$a.xlsx").write_bytes(b"lock")
    (tmp_path / ".hidden.xlsx").write_bytes(b"x")
    files, skipped = _found(tmp_path)
    assert [Path(f).name for f in files] == [
        "a.xlsx",
        "b.xlsm",
        "c.xlsb",
        "d.xls",
        "e.ods",
        "f.csv",
        "g.tsv",
        "h.TXT",
    ]
    assert list(skipped) == [str(tmp_path / "notes.pdf")]
    assert "not a spreadsheet" in skipped[str(tmp_path / "notes.pdf")]


def test_fifo_and_device_links_are_skipped_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.xlsx")
    (tmp_path / "zero.xlsx").symlink_to("/dev/zero")
    shutil.copy(FORM, tmp_path / "ok.xlsx")
    files, skipped = _found(tmp_path)
    assert files == [str(tmp_path / "ok.xlsx")]
    assert "named pipe" in skipped[str(tmp_path / "pipe.xlsx")]
    assert "device" in skipped[str(tmp_path / "zero.xlsx")]
    # given by name too: skipped, not a hang and not "does not exist"
    files, skipped = _found(tmp_path / "pipe.xlsx", tmp_path / "zero.xlsx")
    assert files == [] and len(skipped) == 2


def test_symlink_loops_are_noticed_and_linked_folders_read_once(tmp_path: Path) -> None:
    (tmp_path / "real" / "deeper").mkdir(parents=True)
    shutil.copy(FORM, tmp_path / "real" / "deeper" / "r.xlsx")
    (tmp_path / "real" / "deeper" / "up").symlink_to(tmp_path / "real")  # a loop
    (tmp_path / "linked").symlink_to(tmp_path / "real")  # the same folder once more
    (tmp_path / "self.xlsx").symlink_to(tmp_path / "self.xlsx")  # a link to itself
    (tmp_path / "gone.xlsx").symlink_to(tmp_path / "nowhere.xlsx")
    other = tmp_path.parent / f"{tmp_path.name}-outside"
    other.mkdir()
    shutil.copy(FORM, other / "o.xlsx")
    (tmp_path / "outside").symlink_to(other)  # a symlinked folder: followed
    files, skipped = _found(tmp_path)
    # "linked" sorts before "real": the folder is read there, once
    assert files == [
        str(tmp_path / "linked" / "deeper" / "r.xlsx"),
        str(tmp_path / "outside" / "o.xlsx"),
    ]
    assert "already read" in skipped[str(tmp_path / "real")]
    assert "already read" in skipped[str(tmp_path / "linked" / "deeper" / "up")]
    assert "loop" in skipped[str(tmp_path / "self.xlsx")]
    assert "broken link" in skipped[str(tmp_path / "gone.xlsx")]


def test_gbk_file_names_are_read_and_the_json_stays_utf8(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path / "returns")
    os.mkdir(folder)
    gbk = "苏州科创回执.xlsx".encode("gbk")
    shutil.copy(FORM, os.path.join(folder, gbk))
    with open(os.path.join(folder, "备注.txt".encode("gbk")), "wb") as fh:
        fh.write("序号,内容\n1,无\n".encode("gbk"))
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "csat",
            "score",
            os.fsdecode(folder),
            "--json",
            "--dry-run",
            "--period",
            "2024H1",
        ],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode in (0, 3), done.stderr.decode("utf-8", "replace")[-2000:]
    doc = json.loads(done.stdout.decode("utf-8"))  # strict: valid UTF-8
    [scored] = doc["scored"]
    assert scored["source"]["file"].endswith("苏州科创回执.xlsx")  # GBK bytes shown as GB18030
    assert scored["customer"] == "苏州科创电子科技有限公司"
    assert [r["file"].endswith("备注.txt") for r in doc["rejected"]] == [True]
    human = subprocess.run(
        [
            sys.executable,
            "-m",
            "csat",
            "score",
            os.fsdecode(folder),
            "--dry-run",
            "--period",
            "2024H1",
        ],
        capture_output=True,
        env=dict(env, COLUMNS="200"),
        timeout=120,
    )
    assert "备注.txt" in human.stdout.decode("utf-8")  # the rejected file, named readably
    # record mode: the file is recorded under its readable name; the rerun records nothing new
    args = [sys.executable, "-m", "csat", "score", os.fsdecode(folder), "--period", "2024H1"]
    env["CSAT_DB"] = str(tmp_path / "store.db")
    first = subprocess.run(args, capture_output=True, env=env, timeout=120)
    assert first.returncode == 3, first.stderr.decode("utf-8", "replace")[-2000:]
    assert "1 recorded" in first.stdout.decode("utf-8")
    again = subprocess.run(args, capture_output=True, env=env, timeout=120)
    assert again.returncode in (0, 3) and "0 recorded" in again.stdout.decode("utf-8")


def test_a_missing_path_is_still_a_usage_error(tmp_path: Path) -> None:
    from csat.errors import UsageError

    with pytest.raises(UsageError, match="does not exist"):
        list(discover([str(tmp_path / "nope.xlsx")]))


def test_an_empty_folder_is_said_not_passed_over(tmp_path: Path) -> None:
    """An inbox with nothing (or only lock and hidden files) in it: the user is told, instead
    of a bare "0 scored" that reads as if its replies had been looked at."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "~$a.xlsx").write_bytes(b"lock")
    files, skipped = _found(inbox)
    assert files == [] and skipped == {str(inbox): "a folder with no survey files in it"}
    shutil.copy(FORM, inbox / "ok.xlsx")
    assert _found(inbox) == ([str(inbox / "ok.xlsx")], {})


def test_the_stores_own_files_are_passed_over_by_name_or_through_a_link(tmp_path: Path) -> None:
    """The store's files in a folder being read are not inputs, nor a link to one under another
    name, through a linked folder too; an ordinary file beside them is (the name test that
    spares resolve() must not change what is ignored)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    db = inbox / "csat.db"
    db.write_bytes(b"SQLite format 3\x00")
    (inbox / "csat.db-wal").write_bytes(b"")
    (inbox / "alias.xlsx").symlink_to(db)
    shutil.copy(FORM, inbox / "form.xlsx")
    (tmp_path / "via").symlink_to(inbox)
    own = frozenset(db.with_name(db.name + s) for s in ("", "-wal", "-shm", "-journal"))
    for folder in (inbox, tmp_path / "via"):
        got = list(discover([str(folder)], own))
        files = [Path(g.shown).name for g in got if isinstance(g, InputFile)]
        skipped = [Path(g.file).name for g in got if isinstance(g, Skipped)]
        assert files == ["form.xlsx"] and skipped == []
