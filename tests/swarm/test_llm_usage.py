"""LLM cost, budgets, health and rate limits, against cassettes and the mock provider (never a real API).

Every call is an ``llm_call`` event with its tokens and cost, summed per agent, model and epoch in
``summary.json``; a budget stops a run within one step of its limit (exit 4); a run whose calls
keep failing stops (exit 3) naming the cause and a reply; a provider that refuses past its rate
never fails a run, and the requests it receives never exceed the configured rate.
"""

from __future__ import annotations

import bisect
import json
import math
import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from adapters.mock_server import MockRequest, ThreadedServer, create_app
from swarm import load_scenario, run
from swarm.agents.llm_backend import LLMBackend
from swarm.agents.llm_usage import LLMMonitor, price_table
from swarm.cli import EXIT_BUDGET, EXIT_INPUT, EXIT_RUN, app
from swarm.errors import ScenarioError
from swarm.runtime.simulation import Simulation
from swarm.scenario._sections import LLMRunSpec, ModelPrice
from tests.conftest import ROOT, SCENARIOS

pytest_plugins = ["swarm.testing"]

runner = CliRunner()
CASSETTE = SCENARIOS / "cassettes" / "llm_agents.jsonl"
PRICES = {
    "claude-3-5-haiku-latest": {"input": 0.8, "output": 4.0},
    "claude-sonnet-4-20250514": {"input": 3.0, "output": 15.0},
}


def events(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines[1:]]


def shipped(**llm: Any) -> Any:
    data = yaml.safe_load((SCENARIOS / "llm_agents.yaml").read_text())
    data["simulation"]["n_epochs"] = 3
    data["llm"] = llm
    return load_scenario(data)


def sums(calls: list[dict[str, Any]], by: str) -> dict[Any, tuple[int, int, float]]:
    out: dict[Any, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for c in calls:
        row = out[c[by]]
        row[0] += c["input_tokens"]
        row[1] += c["output_tokens"]
        row[2] += c["cost_usd"]
    return {k: (int(v[0]), int(v[1]), v[2]) for k, v in out.items()}


def test_every_call_is_logged_with_tokens_and_cost_and_summed_per_agent_model_and_epoch(
    tmp_path: Path,
) -> None:
    prices = {"claude-3-5-haiku-latest": {"input": 2.0, "output": 7.0}}  # overrides the built-in price
    sc = shipped(prices=prices)
    result = run(sc, out_dir=tmp_path / "a", llm_factory=LLMBackend(replay=str(CASSETTE)))
    log = events(tmp_path / "a")
    calls = [e for e in log if e["type"] == "llm_call"]
    assert result.reason == "completed" and len(calls) == result.llm["calls"] > 0  # type: ignore[index]
    table = {"claude-3-5-haiku-latest": (2.0, 7.0), "claude-sonnet-4-20250514": (3.0, 15.0)}
    for c in calls:
        pin, pout = table[c["model"]]
        assert c["cost_usd"] == pytest.approx((c["input_tokens"] * pin + c["output_tokens"] * pout) / 1e6)
        assert c["input_tokens"] > 0 and c["error"] is None
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    llm = summary["llm"]
    assert llm["cost_usd"] == pytest.approx(math.fsum(c["cost_usd"] for c in calls))
    assert summary["summary"]["llm_cost_usd"] == pytest.approx(llm["cost_usd"])
    for key, by in (("by_agent", "agent_id"), ("by_model", "model")):
        expected = sums(calls, by)
        assert set(llm[key]) == set(expected)
        for name, (tin, tout, cost) in expected.items():
            row = llm[key][name]
            assert (row["input_tokens"], row["output_tokens"]) == (tin, tout)
            assert row["cost_usd"] == pytest.approx(cost)
    per_epoch = sums(calls, "epoch")
    assert [e["epoch"] for e in llm["by_epoch"]] == sorted(per_epoch) == [0, 1, 2]
    metrics = (tmp_path / "a" / "metrics.csv").read_text().splitlines()
    header = metrics[0].split(",")
    for row, epoch in zip(metrics[1:], llm["by_epoch"], strict=True):
        values = dict(zip(header, row.split(","), strict=True))
        assert (
            float(values["llm_cost"])
            == pytest.approx(epoch["cost_usd"])
            == pytest.approx(per_epoch[epoch["epoch"]][2])
        )
        assert int(values["llm_calls"]) == epoch["calls"]
    # replayed again: the same calls, tokens and costs, byte for byte
    run(sc, out_dir=tmp_path / "b", llm_factory=LLMBackend(replay=str(CASSETTE)))
    again = (tmp_path / "b" / "events.jsonl").read_text().splitlines()
    assert again[:-1] == (tmp_path / "a" / "events.jsonl").read_text().splitlines()[:-1]


def test_cost_tracking_off_counts_the_tokens_but_not_the_cost(tmp_path: Path) -> None:
    data = yaml.safe_load((SCENARIOS / "llm_agents.yaml").read_text())
    data["simulation"]["n_epochs"] = 1
    data["agents"][1]["llm"]["cost_tracking"] = False  # llm_3, the planner
    result = run(load_scenario(data), out_dir=tmp_path, llm_factory=LLMBackend(replay=str(CASSETTE)))
    by_agent = result.llm["by_agent"]  # type: ignore[index]
    assert by_agent["llm_3"]["input_tokens"] > 0 and by_agent["llm_3"]["cost_usd"] == 0.0
    assert by_agent["llm_1"]["cost_usd"] > 0.0


def test_prices_come_from_a_file_the_scenario_names_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("claude-3-5-haiku-latest: {input: 1000, output: 0}\n")
    os.chdir(tmp_path)
    try:
        sc = shipped(prices_file="prices.yaml")
        sc = load_scenario(
            {
                **sc.model_dump(mode="json", exclude_unset=True),
                "simulation": {"n_epochs": 1, "seed": 42, "steps_per_epoch": 5},
            }
        )
        result = run(sc, out_dir=tmp_path / "run", llm_factory=LLMBackend(replay=str(CASSETTE)))
        haiku = result.llm["by_model"]["claude-3-5-haiku-latest"]  # type: ignore[index]
        assert haiku["cost_usd"] == pytest.approx(haiku["input_tokens"] * 1000 / 1e6)
        prices.write_text("claude-3-5-haiku-latest: {input: -1, output: 0}\n")
        with pytest.raises(ScenarioError, match="not a price"):
            price_table(sc.llm)
        res = runner.invoke(
            app,
            [
                "run",
                "llm_agents",
                "--epochs",
                "1",
                "--replay-llm",
                str(CASSETTE),
                "--out",
                str(tmp_path / "c"),
                "--set",
                "llm.prices_file=missing.yaml",
            ],
        )
        assert (
            res.exit_code == EXIT_INPUT and "llm.prices_file" in res.output and "missing.yaml" in res.output
        )
    finally:
        os.chdir(ROOT)


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("agents.0.llm.fallback", "llm", "expected a scripted agent type"),
        ("agents.0.llm.fallback", "nobody", "expected a scripted agent type"),
        ("llm.rate_limits", {"acme": {"requests_per_minute": 5}}, "expected a provider"),
        ("llm.max_failure_rate", 1.5, "llm.max_failure_rate"),
        ("llm.max_cost_usd", 0, "llm.max_cost_usd"),
    ],
)
def test_bad_llm_settings_are_refused_naming_the_key(key: str, value: Any, problem: str) -> None:
    data = yaml.safe_load((SCENARIOS / "llm_agents.yaml").read_text())
    node: Any = data
    parts = key.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    node[parts[-1]] = value
    with pytest.raises(ScenarioError, match=problem):
        load_scenario(data)


# ------------------------------------------------------------------ against the mock provider


def mock_scenario(epochs: int = 3, **llm: Any) -> dict[str, Any]:
    return {
        "scenario_id": "llm-usage",
        "agents": [
            {
                "type": "llm",
                "count": 3,
                "llm": {"provider": "openai", "model": "gpt-4o-mini", "persona": "open"},
            },
            {"type": "honest", "count": 2},
        ],
        "simulation": {"n_epochs": epochs, "steps_per_epoch": 4, "seed": 5, "policy_timeout": 10},
        "llm": llm,
    }


def cli_run(tmp_path: Path, data: dict[str, Any], *extra: str, out: str = "run") -> Any:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return runner.invoke(app, ["run", str(path), "--out", str(tmp_path / out), "--llm-workers", "1", *extra])


@pytest.mark.parametrize("budget", [0.05, 0.2])
def test_a_budget_stops_the_run_before_the_spend_exceeds_it_by_more_than_one_step(
    tmp_path: Path, mock_llm: Any, budget: float
) -> None:
    prices = {"gpt-4o-mini": {"input": 100.0, "output": 300.0}}  # the mock counts tokens as characters / 4
    res = cli_run(tmp_path, mock_scenario(prices=prices, max_cost_usd=budget))
    assert res.exit_code == EXIT_BUDGET, res.output
    assert "the run stopped: its LLM calls cost" in res.output and "LLM cost, USD" in res.output
    log = events(tmp_path / "run")
    per_step: dict[tuple[int, int], float] = defaultdict(float)
    for e in log:
        if e["type"] == "llm_call":
            per_step[e["epoch"], e["step"]] += e["cost_usd"]
    steps = sorted(per_step)
    spent = math.fsum(per_step.values())
    before_last = spent - per_step[steps[-1]]
    assert before_last < budget <= spent <= budget + per_step[steps[-1]]
    stop = [e for e in log if e["type"] == "llm_budget_exceeded"]
    assert len(stop) == 1 and stop[0]["spent_usd"] == pytest.approx(spent) and stop[0]["budget_usd"] == budget
    assert log[-1]["type"] == "run_ended" and log[-1]["reason"] == "llm_budget"
    assert (log[-1]["epoch"], log[-1]["step"]) == (stop[0]["epoch"], stop[0]["step"])
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["reason"] == "llm_budget" and summary["llm"]["cost_usd"] == pytest.approx(spent)
    assert summary["llm"]["budget_usd"] == budget and summary["summary"]["llm_cost_usd"] == pytest.approx(
        spent
    )


def other_shape(req: MockRequest) -> dict[str, Any]:
    """A model that answers in its own JSON shape, whatever the schema asks for."""
    return {"action_type": "NOOP", "params": {}, "why": "my own format"}


@pytest.fixture
def odd_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from swarm.agents.mock_llm import environment

    app_ = create_app(other_shape)
    server = ThreadedServer(app_)
    try:
        for key, value in environment("127.0.0.1", server.port).items():
            monkeypatch.setenv(key, value)
        yield app_
    finally:
        server.close()


def test_a_model_answering_in_another_json_shape_stops_the_run_with_exit_3_naming_cause_and_reply(
    tmp_path: Path, odd_model: Any
) -> None:
    res = cli_run(tmp_path, mock_scenario())
    assert res.exit_code == EXIT_RUN, res.output
    assert "of the 12 LLM calls of epoch 0 failed" in res.output
    assert "commonest cause: invalid_output" in res.output and "action_type" in res.output
    log = events(tmp_path / "run")
    unhealthy = [e for e in log if e["type"] == "llm_unhealthy"]
    assert len(unhealthy) == 1 and unhealthy[0]["cause"] == "invalid_output"
    assert "output does not match ActionChoice after one repair round" in unhealthy[0]["example"]
    assert log[-1]["type"] == "run_ended" and log[-1]["reason"] == "llm_unhealthy"
    assert log[-1]["epochs_completed"] == 1
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["reason"] == "llm_unhealthy" and summary["passed"] is False
    assert summary["llm"]["failures_by_cause"] == {"invalid_output": summary["llm"]["failed"]}
    assert summary["llm"]["failed"] == summary["llm"]["calls"] == 12
    failed = [e for e in log if e["type"] == "llm_call"]
    assert all(e["error"] == "invalid_output" and e["input_tokens"] > 0 for e in failed)
    # with the ceiling turned off the run goes on to its end, every call failing
    res = cli_run(tmp_path, mock_scenario(epochs=1, max_failure_rate=None), out="off")
    assert res.exit_code == 0, res.output
    assert "LLM failures by cause" in res.output and "invalid_output 12" in res.output


async def test_with_the_provider_at_half_the_requested_rate_50_agents_fall_back_and_the_run_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from swarm.agents.mock_llm import environment, mock_app

    limit = 3600  # requests a minute the scenario allows: one every 1/60 s, at most 60 in any second
    app_ = mock_app(rate_limit_rpm=limit // 2)
    server = ThreadedServer(app_)
    try:
        for key, value in environment("127.0.0.1", server.port).items():
            monkeypatch.setenv(key, value)
        sc = load_scenario(
            {
                "scenario_id": "rate-limited",
                "agents": [
                    {
                        "type": "llm",
                        "count": 50,
                        "llm": {
                            "provider": "openai",
                            "model": "gpt-4o-mini",
                            "persona": "honest",
                            "max_retries": 1,
                            "fallback": "honest",
                        },
                    }
                ],
                "simulation": {"n_epochs": 1, "steps_per_epoch": 2, "seed": 3},
                "llm": {"rate_limits": {"openai": {"requests_per_minute": limit}}},
            }
        )
        async with Simulation(sc, out_dir=tmp_path, llm_factory=LLMBackend(workers=1)) as sim:
            result = await sim.wait()
    finally:
        server.close()
    assert result.reason == "completed"
    log = events(tmp_path)
    refusals = [e for e in log if e["type"] == "llm_call" and e["error"] == "rate_limited"]
    fallbacks = [e for e in log if e["type"] == "llm_fallback"]
    # every 429 the provider sent is counted on the event of its request (retried or not), and every
    # request it refused to the end is followed by a fallback event
    calls = [e for e in log if e["type"] == "llm_call"]
    assert app_.stats["rate_limited"] == sum(e["rate_limited"] for e in calls) > 0
    assert len(refusals) == len(fallbacks) > 0
    assert all(e["rate_limited"] == 2 for e in refusals)  # refused, retried after retry-after, refused
    for refusal, fallback in zip(refusals, fallbacks, strict=True):
        assert (fallback["agent_id"], fallback["phase"]) == (refusal["agent_id"], refusal["phase"])
        assert fallback["policy"] == "honest" and "still rate limited after 2 attempts" in fallback["cause"]
    assert not [e for e in log if e["type"] == "policy_failed"]
    assert result.llm is not None and result.llm["fallbacks"] == len(fallbacks) and result.llm["failed"] == 0
    assert result.llm["rate_limited"] == app_.stats["rate_limited"]
    # the mock's own clock: no second (less 0.1 s for the way from client to server) held more
    # requests than the limit allows
    times = sorted(app_.request_times)
    assert len(times) == app_.stats["requests"] > 50
    window, allowance = 1.0 - 0.1, limit // 60
    for k, start in enumerate(times):
        assert bisect.bisect_left(times, start + window) - k <= allowance


# ------------------------------------------------------------------ the monitor's laws

call = st.tuples(
    st.sampled_from(["llm_1", "llm_2", "llm_3"]),
    st.sampled_from(["act", "accept"]),
    st.integers(0, 2000),
    st.integers(0, 200),
    st.sampled_from([None, "invalid_output", "timeout"]),
)


def monitor(budget: float | None = None) -> LLMMonitor:
    settings = LLMRunSpec(prices={"m": ModelPrice(input=1.0, output=3.0)}, max_cost_usd=budget)
    return LLMMonitor(settings, ["llm_1", "llm_2", "llm_3"])


def feed(m: LLMMonitor, calls: list[Any], step: int) -> None:
    for agent, phase, tin, tout, error in calls:
        m.record(
            agent, phase, 0, step, "m", input_tokens=tin, output_tokens=tout, error=error, detail=str(error)
        )


@settings(max_examples=100, deadline=None)
@given(calls=st.lists(call, max_size=30), data=st.data())
def test_a_steps_call_events_do_not_depend_on_the_order_the_answers_came_back(
    calls: list[Any], data: Any
) -> None:
    shuffled = data.draw(st.permutations(calls))
    a, b = monitor(), monitor()
    feed(a, calls, 0)
    feed(b, shuffled, 0)
    assert a.after_step(0, 0) == b.after_step(0, 0)
    assert a.report() == b.report()


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(st.lists(call, max_size=6), min_size=1, max_size=12), budget=st.floats(1e-4, 0.05))
def test_the_budget_stops_at_the_first_step_whose_spend_reaches_it(
    steps: list[list[Any]], budget: float
) -> None:
    m = monitor(budget)
    spent = 0.0
    for k, calls in enumerate(steps):
        feed(m, calls, k)
        events, stop = m.after_step(0, k)
        step_cost = math.fsum(e.cost_usd for e in events if e.type == "llm_call")
        spent += step_cost
        assert m.spent_usd == pytest.approx(spent)
        if stop is not None:
            assert stop == "llm_budget" and spent - step_cost < budget <= spent <= budget + step_cost
            assert events[-1].type == "llm_budget_exceeded"
            return
        assert spent < budget


async def test_a_run_recorded_against_a_refusing_provider_replays_the_same_refusals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from swarm.agents.mock_llm import environment, mock_app

    app_ = mock_app(rate_limit_rpm=600)  # one request per 0.1 s; the scenario sends one per 0.05 s
    server = ThreadedServer(app_)
    try:
        for key, value in environment("127.0.0.1", server.port).items():
            monkeypatch.setenv(key, value)
        data = mock_scenario(epochs=1, rate_limits={"openai": {"requests_per_minute": 1200}})
        data["agents"][0]["llm"].update(max_retries=1, fallback="opportunistic")
        sc = load_scenario(data)
        recorder = LLMBackend(record=str(tmp_path / "c.jsonl"))
        async with Simulation(sc, out_dir=tmp_path / "live", llm_factory=recorder) as sim:
            await sim.wait()
        recorder.close()
    finally:
        server.close()
    live = (tmp_path / "live" / "events.jsonl").read_text().splitlines()
    calls = [json.loads(line) for line in live if '"llm_call"' in line]
    assert sum(c["rate_limited"] for c in calls) == app_.stats["rate_limited"] > 0
    async with Simulation(
        sc, out_dir=tmp_path / "replay", llm_factory=LLMBackend(replay=str(tmp_path / "c.jsonl"))
    ) as sim:
        await sim.wait()
    assert (tmp_path / "replay" / "events.jsonl").read_text().splitlines()[:-1] == live[:-1]
