"""The command-line contract of SPEC §7: exit codes, the exact --json shape, stdout purity."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DATA, ROOT, TABLE_HEADER
from typer.testing import CliRunner

from csat.cli import app

runner = CliRunner()
SUZHOU = str(DATA / "returned-form-zh-苏州科创.xlsx")
CONSOLIDATED = str(DATA / "consolidated-2024H1.xlsx")


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_score_json_shape_is_exactly_the_specs() -> None:
    result = run("score", CONSOLIDATED, "--period", "2024H1", "--json")
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)  # one document, nothing else on stdout
    assert list(doc) == ["period", "scored", "rejected", "skipped", "notices", "summary"]
    assert doc["period"] == "2024H1"
    assert doc["summary"] == {"scored": 29, "rejected": 1, "flagged": 16}
    assert doc["rejected"] == [
        {
            "file": CONSOLIDATED,
            "sheet": "2024上半年",
            "cell": "F17",
            "reason": "unknown rating '很好' for RoHS情况: on scale 'csat' write one of "
            "非常满意/较满意/一般/不满意/非常不满意 (or 1-5)",
        }
    ]
    assert doc["skipped"] == []
    low = next(s for s in doc["scored"] if s["customer"] == "厦门博远科技股份有限公司")
    assert low == {
        "customer": "厦门博远科技股份有限公司",
        "customer_code": "C1006",
        "period": "2024H1",
        "date": "2024-02-02",
        "total": 69.0,
        "grade": "C",
        "complete": True,
        "items": {
            "quality": {"level": "satisfied", "points": 20.0},
            "rohs": {"level": "very_satisfied", "points": 20.0},
            "service": {"level": "very_dissatisfied", "points": 6.0},
            "improvement": {"level": "dissatisfied", "points": 8.0},
            "packaging": {"level": "dissatisfied", "points": 6.0},
            "delivery_date": {"level": "satisfied", "points": 4.0},
            "delivery_quantity": {"level": "very_satisfied", "points": 5.0},
        },
        "flags": [
            {"type": "low_score", "total": 69.0},
            {"type": "dissatisfied_item", "item": "service", "level": "very_dissatisfied"},
            {"type": "dissatisfied_item", "item": "improvement", "level": "dissatisfied"},
            {"type": "dissatisfied_item", "item": "packaging", "level": "dissatisfied"},
        ],
        "comments": None,
        "source": {"file": CONSOLIDATED, "sheet": "2024上半年", "row": 10},
    }
    rescaled = next(s for s in doc["scored"] if not s["complete"])
    assert rescaled["total"] == 96.3 and rescaled["items"]["service"] == {
        "level": None,
        "points": None,
    }


def test_json_folder_paths_and_skipped(samples: Path) -> None:
    result = run("score", str(samples), "--json")
    doc = json.loads(result.stdout)
    assert doc["period"] is None
    assert doc["skipped"] == [
        {
            "file": str(samples / "README.md"),
            "reason": "not a spreadsheet (.xlsx .xlsm .xlsb .xls .ods .csv .tsv .txt)",
        }
    ]
    forms = [s for s in doc["scored"] if s["source"]["row"] is None]
    assert {s["source"]["file"] for s in forms} == {
        str(samples / n)
        for n in [
            "returned-form-en-Nordlicht.xlsx",
            "returned-form-zh-东莞精密.xlsx",
            "returned-form-zh-苏州科创.xlsx",
        ]
    }
    assert next(s for s in forms if s["customer"].startswith("Nordlicht"))["period"] == "2024H2"


def test_exit_0_when_everything_scored_and_human_output() -> None:
    result = run("score", SUZHOU)
    assert result.exit_code == 0, result.output
    assert "苏州科创电子科技有限公司" in result.stdout and "98.0" in result.stdout
    assert "1 scored, 0 rejected, 0 flagged" in result.stdout


def test_human_output_lists_rejections_with_cell() -> None:
    result = run("score", CONSOLIDATED)
    assert result.exit_code == 3
    assert "F17" in result.stdout and "很好" in result.stdout
    assert "29 scored, 1 rejected, 16 flagged" in result.stdout


def test_customer_text_is_not_rich_markup(workbook: Callable[..., Path]) -> None:
    path = workbook(
        "m.xlsx",
        [TABLE_HEADER, [1, "[bold red]Evil[/] Co.", None, "2024-06-01", *(["非常满意"] * 7), None]],
    )
    result = run("score", str(path))
    assert "[bold red]Evil[/] Co." in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["score", SUZHOU, "--period", "2024H3"], 2, "2024H1"),
        (["score", "no/such/file.xlsx"], 2, "does not exist"),
        # a missing file is a usage error in every command
        (["score", SUZHOU, "--config", "no/such.yaml"], 2, "does not exist (--config)"),
        (["survey", "--customers", "no/such.csv", "--period", "2024H1"], 2, "does not exist"),
        (["chase", "--customers", "no/such.csv", "--period", "2024H1"], 2, "does not exist"),
        (["report", "--period", "2024H1", "--config", "no/such.yaml"], 2, "does not exist"),
    ],
)
def test_usage_and_fatal_errors(args: list[str], code: int, message: str) -> None:
    result = run(*args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_missing_argument_is_a_usage_error() -> None:
    assert run("score").exit_code == 2


def test_bad_config_lists_every_error_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "weights.yaml"
    text = (ROOT / "config" / "weights.yaml").read_text(encoding="utf-8")
    bad.write_text(
        text.replace("colour", "")
        .replace("version: 1", "version: 1\nextra: 2")
        .replace("cadence: half_year", "cadence: weekly"),
        encoding="utf-8",
    )
    for args in (
        ["config", "check", "--config", str(bad)],
        ["score", SUZHOU, "--config", str(bad)],
    ):
        result = run(*args)
        assert result.exit_code == 1
        assert "extra: unknown key" in result.stderr
        assert "cadence:" in result.stderr
        assert result.stdout == ""


def test_config_check_prints_the_table() -> None:
    result = run("config", "check")
    assert result.exit_code == 0, result.output
    for text in [
        "产品质量",
        "Product quality",
        "100",
        "86",
        "73",
        "50",
        "24",
        "A ≥ 95",
        "Rules hash",
    ]:
        assert text in result.stdout


def test_config_env_var_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "w.yaml"
    bad.write_text("version: 2\n", encoding="utf-8")
    monkeypatch.setenv("CSAT_CONFIG", str(bad))
    result = run("config", "check")
    assert result.exit_code == 1 and str(bad) in result.stderr


def test_init_copies_config_and_templates_and_keeps_edits(tmp_path: Path) -> None:
    target = tmp_path / "work"
    result = run("init", str(target))
    assert result.exit_code == 0, result.output
    weights = target / "config" / "weights.yaml"
    assert weights.read_text(encoding="utf-8") == (ROOT / "config" / "weights.yaml").read_text(
        encoding="utf-8"
    )
    assert (target / "config" / "weights.schema.json").is_file()
    assert (target / "config" / "customers.example.csv").is_file()
    assert (target / "templates" / "capa" / "form.html.j2").is_file()
    weights.write_text("edited", encoding="utf-8")
    again = run("init", str(target))
    assert "kept" in again.stdout and weights.read_text(encoding="utf-8") == "edited"


def test_dry_run_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("score", SUZHOU, "--dry-run", "--db", "x.db")
    assert result.exit_code == 0
    assert list(tmp_path.iterdir()) == []


def test_every_command_has_help_with_an_example() -> None:
    for args in (["score"], ["config", "check"], ["config", "schema"], ["init"]):
        result = run(*args, "--help")
        assert result.exit_code == 0
        assert "Example" in result.stdout, args


def test_unexpected_error_has_no_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import csat.pipeline

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(csat.pipeline, "iter_outcomes", boom)  # the command imports it on use
    result = run("score", SUZHOU, "--dry-run")
    assert result.exit_code == 1
    assert "kaboom" in result.stderr and "--debug" in result.stderr
    assert "Traceback" not in result.output
