"""Start-up: each command imports what it needs and nothing heavier (a behavioural guard, not a timing).

Timings are in ``bench/bench_llm_cli.py``; here ``python -X importtime`` lists every
module a command imported, and the heavy ones must not be among them.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

HEAVY = (
    *("httpx", "httpx2", "anthropic", "openai", "aiohttp", "numpy", "pandas", "matplotlib", "uvicorn"),
    *("starlette", "playwright"),
)
"""Never needed by --help, list or a run without LLM agents (numpy: only for populations of 128+)."""
SWARM = [sys.executable, "-m", "swarm.cli"]


def imported(
    args: list[str], *, script: bool = False, cwd: Path = ROOT, codes: tuple[int, ...] = (0,)
) -> set[str]:
    """Every module the ``swarm`` command imports for ``args`` (``python -m swarm.cli``, or its script)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    command = [str(Path(sys.executable).parent / "swarm")] if script else SWARM
    done = subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
    assert done.returncode in codes, done.stderr[-3000:]
    return set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", done.stderr, re.MULTILINE))


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_imports_neither_the_simulation_nor_pydantic_nor_anything_heavy() -> None:
    modules = imported(["--help"])
    assert "typer" in modules  # the guard sees the imports
    assert not top_level(modules) & {*HEAVY, "pydantic", "actors", "adapters", "structlog", "yaml", "msgspec"}
    assert {m for m in modules if m.startswith("swarm.")} <= {
        "swarm.cli",
        "swarm.registry",
        "swarm.analysis",
        "swarm.analysis.commands",
        "swarm.dashboard",
        "swarm.dashboard.commands",
        "swarm.redteam",
        "swarm.redteam.commands",
        "swarm.runtime",
        "swarm.runtime.commands",
    }


@pytest.mark.skipif(not (Path(sys.executable).parent / "swarm").exists(), reason="no console script")
def test_the_console_script_starts_as_lightly_as_python_m() -> None:
    modules = imported(["--help"], script=True)
    assert "typer" in modules and not top_level(modules) & {*HEAVY, "pydantic", "actors"}


def test_list_validates_scenarios_without_the_simulation_or_the_llm_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWARM_CACHE_DIR", str(tmp_path / "cache"))  # cold: nothing remembered
    modules = imported(["list"])
    assert "swarm.scenario._schema" in modules
    assert not top_level(modules) & {*HEAVY, "adapters", "structlog"}
    assert not {"swarm.runtime.simulation", "swarm.analysis.sweep", "multiprocessing"} & modules


def test_a_run_without_llm_agents_loads_no_llm_stack(tmp_path: Path) -> None:
    modules = imported(
        ["run", "baseline", "--epochs", "1", "--steps", "2", "--out", str(tmp_path)], codes=(0, 1)
    )
    assert "swarm.runtime.simulation" in modules
    # its output needs no Markdown or progress bar (not a terminal)
    assert not top_level(modules) & {*HEAVY, "adapters", "markdown_it"}
    assert not {"swarm.agents.llm_backend", "swarm.analysis.sweep", "swarm.analysis.aggregate"} & modules
    assert not {"rich.progress", "rich.markdown"} & modules


def test_the_command_registers_the_built_ins_in_the_library_order(tmp_path: Path) -> None:
    """The ``swarm`` command loads the built-ins itself (its --help needs none); the order is the same."""
    import swarm

    scenario = swarm.load_scenario(
        ROOT / "scenarios" / "marketplace_economy.yaml",
        ["simulation.n_epochs=2", "simulation.steps_per_epoch=3"],
    )
    swarm.run(scenario, out_dir=tmp_path / "library")
    done = subprocess.run(
        [
            *SWARM,
            "run",
            "marketplace_economy",
            "--epochs",
            "2",
            "--steps",
            "3",
            "--out",
            str(tmp_path / "command"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: the scenario's criteria want more epochs
    with (
        (tmp_path / "library" / "metrics.csv").open() as a,
        (tmp_path / "command" / "metrics.csv").open() as b,
    ):
        assert next(csv.reader(a)) == next(csv.reader(b))  # metrics in registration order
    library, command = (
        json.loads((tmp_path / name / "summary.json").read_text()) for name in ("library", "command")
    )
    assert list(library["summary"]) == list(command["summary"])
    logs = [(tmp_path / name / "events.jsonl").read_text().splitlines() for name in ("library", "command")]
    assert logs[0][:-1] == logs[1][:-1]  # the same events (components and levers act in registration order)


def test_list_remembers_its_answer_until_a_scenario_or_the_code_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWARM_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name in ("baseline", "status_game"):
        (folder / f"{name}.yaml").write_bytes((ROOT / "scenarios" / f"{name}.yaml").read_bytes())

    def listing() -> tuple[set[str], str]:
        env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "COLUMNS": "200"}
        done = subprocess.run(
            [*SWARM, "list", "--dir", str(folder)], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return set(
            re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", done.stderr, re.MULTILINE)
        ), done.stdout

    cold, first = listing()
    warm, second = listing()
    assert "swarm.scenario._schema" in cold and "swarm.scenario._schema" not in warm
    assert "pydantic" not in top_level(warm)  # nor the argument parser's conversions
    assert second == first and "baseline" in first and "status_game" in first
    (folder / "status_game.yaml").write_text("scenario_id: broken\nsimulation: {n_epochs: -3}\n")
    again, third = listing()
    assert "swarm.scenario._schema" in again and "invalid" in third and "baseline" in third
    _, fourth = listing()
    assert fourth == third


def test_a_plain_listing_answers_as_the_argument_parser_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``swarm list [--dir DIR]`` skips the parser (main); what it prints and its exit code are the same."""
    from typer.testing import CliRunner

    from swarm.cli import app

    monkeypatch.setenv("SWARM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "baseline.yaml").write_bytes((ROOT / "scenarios" / "baseline.yaml").read_bytes())
    (folder / "broken.yaml").write_text("scenario_id: broken\nsimulation: {n_epochs: -3}\n")
    answers = []
    for args in (["--dir", str(folder)], [f"--dir={folder}"], ["--dir", str(tmp_path / "none")]):
        direct = subprocess.run(
            [*SWARM, "list", *args], capture_output=True, text=True, cwd=tmp_path, env=os.environ, timeout=120
        )
        parsed = CliRunner().invoke(app, ["list", *args])
        assert (direct.returncode, direct.stdout, direct.stderr) == (
            parsed.exit_code,
            parsed.stdout,
            parsed.stderr,
        )
        answers.append(direct)
    assert answers[0].returncode == 0 and "baseline" in answers[0].stdout and "invalid" in answers[0].stdout
    assert answers[1].stdout == answers[0].stdout
    assert answers[2].returncode == 2 and "no such directory" in answers[2].stderr
