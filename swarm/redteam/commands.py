"""The ``swarm redteam`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from swarm.cli import EXIT_INPUT, EXIT_INTERRUPTED, EXIT_RUN, app, err, fail_input, out, resolve_scenario_path


@app.command()
def redteam(
    scenario: Annotated[str, typer.Argument(help="Scenario file or shipped scenario name.")],
    attacks: Annotated[
        str | None, typer.Option("--attacks", help="Comma-separated attacks (default: all eight).")
    ] = None,
    seeds: Annotated[int, typer.Option(min=1, max=1000, help="Seeds per attack and arm.")] = 10,
    first_seed: Annotated[
        int, typer.Option("--first-seed", help="Seeds are first-seed, first-seed+1, ...")
    ] = 1,
    epochs: Annotated[int | None, typer.Option(help="Override simulation.n_epochs.")] = None,
    steps: Annotated[int | None, typer.Option(help="Override simulation.steps_per_epoch.")] = None,
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="KEY.PATH=VALUE override (repeatable).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=256, help="Parallel processes.")] = 1,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default runs/redteam-<scenario>).")
    ] = None,
) -> None:
    """Plant each attack into the scenario, run it with its governance on and off over paired seeds, and
    write report.md, summary.json and runs.csv (see docs/threats.md, "Red team")."""
    import yaml

    from swarm.errors import ScenarioError
    from swarm.redteam import attacks as library
    from swarm.redteam import evaluate
    from swarm.runtime.rundir import check_path
    from swarm.scenario import load_scenario

    try:
        chosen = library.select([a.strip() for a in attacks.split(",") if a.strip()] if attacks else None)
    except ValueError as exc:
        raise fail_input(exc) from None
    overrides = list(sets or [])
    if epochs is not None:
        overrides.append(f"simulation.n_epochs={epochs}")
    if steps is not None:
        overrides.append(f"simulation.steps_per_epoch={steps}")
    path = resolve_scenario_path(scenario)
    try:
        base = load_scenario(path, overrides)  # every input error surfaces here, with file and line
    except ScenarioError as exc:
        raise fail_input(exc) from None
    data = yaml.safe_load(path.read_text())
    target = out_dir or Path("runs") / f"redteam-{base.scenario_id}"
    try:
        check_path(target, "--out")
    except ScenarioError as exc:
        raise fail_input(exc) from None
    if target.exists() and not target.is_dir():
        err.print(f"--out {target}: not a directory (expected the report's directory)", markup=False)
        raise typer.Exit(EXIT_INPUT)
    seed_list = list(range(first_seed, first_seed + seeds))
    n = len(chosen) * len(evaluate.ARMS) * seeds
    out.print(f"{len(chosen)} attacks x {len(evaluate.ARMS)} arms x {seeds} seeds = {n} runs", markup=False)
    try:
        rows = evaluate.run_all(data, chosen, seed_list, overrides=overrides, jobs=workers)
    except KeyboardInterrupt:
        err.print("interrupted: nothing written")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except ScenarioError as exc:  # the planted population does not fit the scenario
        raise fail_input(exc) from None
    except Exception as exc:
        err.print(f"a red-team run failed: {type(exc).__name__}: {exc}", markup=False)
        raise typer.Exit(EXIT_RUN) from None
    summary = evaluate.summarise(rows, _levers_on(base))
    summary["scenario"] = base.scenario_id
    summary["seeds"] = seed_list
    summary["overrides"] = overrides
    for p in evaluate.write(target, rows, summary, base.scenario_id):
        out.print(f"wrote {p}", markup=False)
    out.print(f"robustness {summary['robustness']:.3f}, grade {summary['grade']}", markup=False)


def _levers_on(scenario: object) -> list[str]:
    """The keys of the levers the scenario switches on."""
    from swarm.governance.lever import levers_in_order

    flat = scenario.governance.model_dump()  # type: ignore[attr-defined]
    keys = []
    for cls in levers_in_order():
        config = cls.Config.model_validate({k: flat[k] for k in cls.Config.model_fields if k in flat})
        if cls.active(config):
            keys.append(cls.key)
    return keys
