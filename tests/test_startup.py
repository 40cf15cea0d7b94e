"""`csat --help`, `--version` and shell completion start without the heavy libraries (issue 12):
each command imports what it uses. Checked by the modules loaded, not by timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import form_rows, write_workbook

HEAVY = (
    "python_calamine",
    "openpyxl",
    "xlsxwriter",
    "jinja2",
    "holidays",
    "opencc",
    "scipy",
    "numpy",
    "jieba",
    "charset_normalizer",
    "pydantic",
    "yaml",
    "sqlite3",
    "csat.intake",
    "csat.config",
    "csat.report",
    "csat.store",
)

# Runs the real entry point, then prints (on stderr) which heavy modules it had loaded.
PROBE = """
import json, sys
from csat.cli import main
try:
    main()
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] if not m.startswith("csat.") else ".".join(m.split(".")[:2])
                for m in sys.modules} & set(HEAVY))
sys.stderr.write("LOADED " + json.dumps(heavy) + "\\n")
"""


def _loaded(args: list[str], env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    prelude = f"import sys\nsys.argv = ['csat', *{args!r}]\nHEAVY = {HEAVY!r}\n"
    proc = subprocess.run(
        [sys.executable, "-c", prelude + PROBE],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("LOADED "))
    return proc.stdout, json.loads(line.removeprefix("LOADED "))


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["score", "--help"]])
def test_help_and_version_load_no_reader_writer_or_template(args: list[str]) -> None:
    output, loaded = _loaded(args)
    assert "csat" in output.lower()
    assert loaded == []


def test_shell_completion_loads_no_reader_writer_or_template() -> None:
    env = {"_CSAT_COMPLETE": "complete_bash", "COMP_WORDS": "csat sc", "COMP_CWORD": "1"}
    output, loaded = _loaded([], env)
    assert output.split() == ["score"]
    assert loaded == []


def test_import_csat_is_lazy_but_exports_the_same_names() -> None:
    code = (
        "import sys, csat\n"
        "before = 'csat.pipeline' in sys.modules\n"
        "from csat import LoadedRules, iter_outcomes, parse_period, score_files\n"
        "print(before, 'csat.pipeline' in sys.modules, sorted(csat.__all__) == sorted(\n"
        "    n for n in csat.__all__ if getattr(csat, n, None) is not None))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["False", "True", "True"]


# What reading one returned form needs, and what it does not (issue 12: each command imports
# what it uses, so a one-file `csat score` starts without the pool, the writers or templates).
SCORE_NEEDS_NOT = (
    "multiprocessing",  # one file: no pool
    "concurrent",
    "rich.progress",  # stdout and stderr are not a terminal: no progress bar
    "defusedxml",  # no custom properties in a form the customer made
    "xml.etree",
    "openpyxl",
    "xlsxwriter",
    "jinja2",
    "holidays",
    "scipy",
    "jieba",
    "pydantic",  # valid rules take csat.config's fast path; pydantic only explains bad ones
    "csat.config_schema",
    "csat.store",  # a dry run records nothing
    "sqlite3",
)


def test_scoring_one_form_loads_no_pool_writer_template_pydantic_or_store(
    tmp_path: Path,
) -> None:
    rows = form_rows("东莞精密", dict.fromkeys(range(7), 1))
    path = write_workbook(tmp_path / "form.xlsx", {"表": rows})
    argv = ["csat", "score", "--dry-run", "--json", "--period", "2024H1", str(path)]
    code = (
        "import json, sys\n"
        f"sys.argv = {argv!r}\n"
        "from csat.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"wanted = {SCORE_NEEDS_NOT!r}\n"
        "loaded = sorted(w for w in wanted if any(m == w or m.startswith(w + '.') "
        "for m in sys.modules))\n"
        "sys.stderr.write('LOADED ' + json.dumps(loaded) + '\\n')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert '"customer":"东莞精密"' in proc.stdout
    line = next(x for x in proc.stderr.splitlines() if x.startswith("LOADED "))
    assert json.loads(line.removeprefix("LOADED ")) == []


def test_command_annotations_are_objects_so_typer_evaluates_no_string() -> None:
    """typer reads every command's parameters at each start, twice; string annotations (from
    `from __future__ import annotations`) are compiled and evaluated each time (~9 ms of every
    command, issue 12), so the modules that define commands do without that import."""
    import inspect

    from csat import cli

    groups = [cli.app, cli.config.config_app, cli.capa.capa_app, cli.imports.imports_app]
    callbacks = [c.callback for g in [*groups, cli.db.db_app] for c in g.registered_commands]
    assert cli.app.registered_callback is not None
    callbacks.append(cli.app.registered_callback.callback)
    assert len(callbacks) > 15
    for callback in callbacks:
        assert callback is not None
        for param in inspect.signature(callback).parameters.values():
            assert not isinstance(param.annotation, str), (callback.__qualname__, param.name)
