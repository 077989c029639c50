"""Strict cassettes: hostile cassettes fail loudly, with the file, line, field or request named.

Three tables: a header that does not match the run (bad input, before the run
starts), a damaged file (bad input, before the run starts) and a request with no
recorded answer during the run (the run fails: its log is intact and ends with
``run_ended`` reason ``failed``). A few cases go through ``swarm run`` as a
subprocess for the exit codes; the rest use the library.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml

from adapters import (
    CassetteError,
    CassetteMiss,
    CassetteWriter,
    CompletionRequest,
    ProviderError,
    RecordingAdapter,
    ReplayAdapter,
    ScriptedAdapter,
)
from adapters._cassette import digest_of
from swarm import Simulation, load_scenario
from swarm.agents.llm import LLMPolicy, scenario_components
from swarm.agents.llm_backend import LLMBackend
from swarm.agents.llm_responder import scripted_answer
from swarm.events import PolicyFailed, RunEnded
from swarm.runtime.eventlog import read_log
from swarm.runtime.simulation import SimulationError
from tests.conftest import ROOT

SCENARIO: dict[str, Any] = {
    "scenario_id": "cassette-test",
    "agents": [
        {"type": "llm", "count": 2, "llm": {"provider": "scripted", "model": "m-1", "persona": "open"}},
        {"type": "llm", "count": 1, "llm": {"provider": "scripted", "model": "m-1", "persona": "strategic"}},
        {"type": "honest", "count": 2},
        {"type": "opportunistic", "count": 1},
    ],
    "simulation": {"n_epochs": 3, "steps_per_epoch": 3, "seed": 5, "policy_timeout": 5},
    "governance": {"transaction_tax_rate": 0.05},
}

PRECIOUS = '{"type": "header", "note": "a log written before this command"}\n'


def scenario(*overrides: str) -> Any:
    return load_scenario(SCENARIO, list(overrides))


async def run_with(sc: Any, out: Path, backend: Any) -> None:
    async with Simulation(sc, out_dir=out, llm_factory=backend) as sim:
        await sim.wait()


class Recorded:
    """The reference recording: its cassette's lines and the event log of the recorded run."""

    def __init__(self, cassette: Path, log: Path) -> None:
        self.cassette = cassette
        self.lines = cassette.read_text().splitlines(keepends=True)
        self.entries = [json.loads(line) for line in self.lines[1:]]
        self.log = log.read_text().splitlines()

    def line_of(self, agent: str, epoch: int, step: int, phase: str = "act") -> int:
        """The 1-based cassette line of an entry."""
        for n, e in enumerate(self.entries, start=2):
            if (e["agent"], e["epoch"], e["step"], e["phase"]) == (agent, epoch, step, phase):
                return n
        raise LookupError((agent, epoch, step, phase))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    tmp = tmp_path_factory.mktemp("recorded")
    backend = LLMBackend(record=str(tmp / "cassette.jsonl"))
    anyio.run(run_with, scenario(), tmp / "run", backend)
    backend.close()
    return Recorded(tmp / "cassette.jsonl", tmp / "run" / "events.jsonl")


def test_the_recording_replays_byte_identical(recorded: Recorded, tmp_path: Path) -> None:
    assert json.loads(recorded.lines[0]) == {
        "format": "swarm-llm-cassette",
        "version": 3,
        "scenario": "cassette-test",
        "seed": 5,
    }
    assert {e["phase"] for e in recorded.entries} == {"act", "accept"}
    anyio.run(run_with, scenario(), tmp_path, LLMBackend(replay=str(recorded.cassette)))
    assert (tmp_path / "events.jsonl").read_text().splitlines()[:-1] == recorded.log[:-1]


# ------------------------------------------------------------------------------------------
# Editing helpers


def entry_line(n: int, edit: Callable[[dict[str, Any]], None], *, digest: bool = False) -> Any:
    """A mutation of the cassette's line ``n``: ``edit`` its entry (then re-digest it if asked)."""

    def mutate(lines: list[str]) -> str:
        obj = json.loads(lines[n - 1])
        edit(obj)
        if digest:
            obj["digest"] = digest_of(obj)
        lines[n - 1] = json.dumps(obj, sort_keys=True) + "\n"
        return "".join(lines)

    return mutate


def header(**changes: Any) -> Any:
    def mutate(lines: list[str]) -> str:
        obj = json.loads(lines[0])
        for key, value in changes.items():
            if value is None:
                del obj[key]
            else:
                obj[key] = value
        return json.dumps(obj) + "\n" + "".join(lines[1:])

    return mutate


def write(tmp_path: Path, recorded: Recorded, mutate: Callable[[list[str]], str | bytes]) -> Path:
    path = tmp_path / "cassette.jsonl"
    content = mutate(list(recorded.lines))
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return path


def intact() -> Callable[[list[str]], str]:
    return "".join


def prepared_out(tmp_path: Path) -> Path:
    """An output directory holding a log from an earlier run, which a failing command must leave alone."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "events.jsonl").write_text(PRECIOUS)
    return out


# ------------------------------------------------------------------------------------------
# 1. Headers that do not match the run: bad input, before the run starts


HEADERS = [
    pytest.param(
        intact(), ["scenario_id=another"], "scenario", "recorded from another scenario", id="scenario"
    ),
    pytest.param(intact(), ["simulation.seed=6"], "seed", "recorded with another seed", id="seed"),
    pytest.param(header(version=1), [], "version", "does not read", id="version-old"),
    pytest.param(header(version=2), [], "version", "does not read", id="version-2"),
    pytest.param(header(version=4), [], "version", "does not read", id="version-new"),
    pytest.param(header(format="something-else"), [], "format", "not a cassette header", id="format"),
    pytest.param(lambda lines: "".join(lines[1:]), [], "format", "format 1", id="no-header"),
    pytest.param(header(seed=None), [], "seed", "missing", id="header-field-missing"),
    pytest.param(
        header(seed="5"), [], "seed", "wrong type: got str: expected int | null", id="header-field-type"
    ),
]


@pytest.mark.parametrize(("mutate", "overrides", "field", "problem"), HEADERS)
def test_a_header_that_does_not_match_the_run_is_bad_input(
    recorded: Recorded,
    tmp_path: Path,
    mutate: Callable[[list[str]], str],
    overrides: list[str],
    field: str,
    problem: str,
) -> None:
    path = write(tmp_path, recorded, mutate)
    sc = scenario(*overrides)
    with pytest.raises(CassetteError) as caught:
        LLMBackend(replay=str(path)).check(sc)
    message = str(caught.value)
    assert message.startswith(f"{path}:1: {field}"), message
    assert problem in message and "expected" in message
    assert (caught.value.line, caught.value.field) == (1, field)
    refused_before_the_run_starts(sc, path, tmp_path)


def refused_before_the_run_starts(sc: Any, path: Path, tmp_path: Path) -> None:
    """Through the library: the run never starts, and nothing already written is touched."""
    out = prepared_out(tmp_path)
    with pytest.raises(SimulationError, match="the LLM agents cannot start") as failed:
        anyio.run(run_with, sc, out, LLMBackend(replay=str(path)))
    cause = failed.value.__cause__
    assert isinstance(cause, CassetteError) and isinstance(cause, ValueError)  # exit 2 in the CLI
    assert str(cause) in str(failed.value)
    assert sorted(p.name for p in out.iterdir()) == ["events.jsonl"]
    assert (out / "events.jsonl").read_text() == PRECIOUS


# ------------------------------------------------------------------------------------------
# 2. Damaged files: bad input, before the run starts


def _del(*path: str) -> Callable[[dict[str, Any]], None]:
    def edit(obj: dict[str, Any]) -> None:
        for key in path[:-1]:
            obj = obj[key]
        del obj[path[-1]]

    return edit


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(obj: dict[str, Any]) -> None:
        obj[key] = value

    return edit


def _other_answer(obj: dict[str, Any]) -> None:
    obj["answer"]["raw_text"] = '{"action": {"type": "noop"}, "reasoning": "edited by hand"}'


def _line(n: int, text: str) -> Callable[[list[str]], str]:
    def mutate(lines: list[str]) -> str:
        lines[n - 1] = text
        return "".join(lines)

    return mutate


LAST = -1  # the cassette's last line (resolved against the recording)

DAMAGED = [
    pytest.param(
        lambda lines: "".join(lines)[:-40], LAST, None, "the last line is cut short", id="truncated"
    ),
    pytest.param(entry_line(3, _other_answer), 3, "digest", "changed after recording", id="edited-answer"),
    pytest.param(
        entry_line(4, lambda o: o.update(user=o["user"] + " ")),
        4,
        "digest",
        "changed after",
        id="edited-prompt",
    ),
    pytest.param(entry_line(5, _del("phase")), 5, "phase", "missing", id="missing-field"),
    pytest.param(
        entry_line(5, _del("answer", "usage", "output_tokens")),
        5,
        "answer.usage.output_tokens",
        "missing",
        id="missing-nested-field",
    ),
    pytest.param(
        entry_line(2, _set("epoch", "zero")),
        2,
        "epoch",
        "wrong type: got str: expected int | null",
        id="wrong-type",
    ),
    pytest.param(
        entry_line(2, _set("key", "abc")),
        2,
        "key",
        "invalid value: expected str matching regex '^[0-9a-f]{64}$'",
        id="bad-key",
    ),
    pytest.param(entry_line(2, _set("extra", 1)), 2, "extra", "unknown field", id="unknown-field"),
    pytest.param(
        entry_line(2, _set("error", {"type": "ProviderError", "message": "x", "state": {}})),
        2,
        "answer",
        "an answer or an error",
        id="answer-and-error",
    ),
    pytest.param(_line(3, "this is not JSON\n"), 3, None, "not JSON", id="not-json-line"),
    pytest.param(_line(3, "[1, 2]\n"), 3, None, "a JSON list, not an object", id="json-list"),
    pytest.param(_line(3, "\n"), 3, None, "an empty line", id="blank-line"),
    pytest.param(lambda lines: "", 1, None, "empty file", id="empty-file"),
    pytest.param(lambda lines: yaml.safe_dump(SCENARIO), 1, None, "not JSON", id="not-a-cassette"),
    pytest.param(lambda lines: b"\xff\xfe\x00garbage\n", 1, None, "not JSON", id="binary"),
]


@pytest.mark.parametrize(("mutate", "line", "field", "problem"), DAMAGED)
def test_a_damaged_cassette_is_bad_input_naming_line_and_field(
    recorded: Recorded,
    tmp_path: Path,
    mutate: Callable[[list[str]], str | bytes],
    line: int,
    field: str | None,
    problem: str,
) -> None:
    path = write(tmp_path, recorded, mutate)
    line = len(recorded.lines) if line == LAST else line
    with pytest.raises(CassetteError) as caught:
        ReplayAdapter(path)
    message = str(caught.value)
    where = f"{path}:{line}" + (f": {field}" if field else "")
    assert message.startswith(where), message
    assert (caught.value.line, caught.value.field) == (line, field)
    assert problem in message and "expected" in message
    refused_before_the_run_starts(scenario(), path, tmp_path)


def test_a_missing_cassette_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="no such cassette"):
        LLMBackend(replay=str(tmp_path / "none.jsonl")).check(scenario())


# ------------------------------------------------------------------------------------------
# 3. Misses during the run: the run fails, the log is intact and ends with run_ended(failed)


def _cut_after(epoch: int, step: int, agent: str | None = None) -> Callable[[Recorded], Any]:
    """Keep the entries up to (epoch, step) (and up to ``agent``'s act within it)."""

    def mutate(rec: Recorded) -> Any:
        def keep(e: dict[str, Any]) -> bool:
            if (e["epoch"], e["step"]) != (epoch, step):
                return bool((e["epoch"], e["step"]) < (epoch, step))
            return agent is None or (e["phase"] == "act" and e["agent"] <= agent)

        kept = {n for n, e in enumerate(rec.entries, start=1) if keep(e)}
        return lambda lines: lines[0] + "".join(line for n, line in enumerate(lines) if n in kept)

    return mutate


def _drop(agent: str, epoch: int, step: int) -> Callable[[Recorded], Any]:
    def mutate(rec: Recorded) -> Any:
        n = rec.line_of(agent, epoch, step)
        return lambda lines: "".join(line for k, line in enumerate(lines, start=1) if k != n)

    return mutate


def _invalid_answer(agent: str, epoch: int, step: int) -> Callable[[Recorded], Any]:
    def mutate(rec: Recorded) -> Any:
        return entry_line(
            rec.line_of(agent, epoch, step),
            lambda o: o["answer"].update(raw_text='{"action": {"type": "fly"}, "reasoning": "x"}'),
            digest=True,
        )

    return mutate


def _as_is(rec: Recorded) -> Any:
    return intact()


MISSES = [
    # (cassette, scenario overrides, same run as recorded, agent, epoch, step, phase, nearest, reason)
    pytest.param(
        _as_is,
        ["governance.transaction_tax_rate=0.1"],
        False,
        None,
        0,
        0,
        "act",
        "same",
        "the user prompt differs at character",
        id="prompt-changed",
    ),
    pytest.param(
        _as_is,
        ["llm_agents_temperature"],
        False,
        None,
        0,
        0,
        "act",
        "same",
        "the temperature differs",
        id="temp",
    ),
    pytest.param(
        _cut_after(0, 2),
        [],
        True,
        None,
        1,
        0,
        "act",
        "last",
        "the cassette ends at epoch 0, step 2",
        id="cut-short",
    ),
    pytest.param(
        _cut_after(1, 1, "llm_1"),
        [],
        True,
        None,
        1,
        1,
        "act",
        "last",
        "the cassette ends at epoch 1, step 1",
        id="cut-mid-step",
    ),
    pytest.param(
        _as_is,
        ["simulation.n_epochs=4"],
        False,
        None,
        3,
        0,
        "act",
        "last",
        "recorded from a shorter run",
        id="longer-run",
    ),
    pytest.param(
        _drop("llm_2", 1, 1),
        [],
        True,
        "llm_2",
        1,
        1,
        "act",
        "before",
        "an entry was removed",
        id="entry-removed",
    ),
    pytest.param(
        _invalid_answer("llm_3", 1, 0),
        [],
        True,
        "llm_3",
        1,
        0,
        "act",
        None,
        "no longer validates against ActionChoice: action: Input tag 'fly'",
        id="answer-no-longer-validates",
    ),
]


def _overrides(overrides: list[str]) -> list[str]:
    if overrides == ["llm_agents_temperature"]:
        return ["agents.0.llm.temperature=0.3"]
    return overrides


def _cause(exc: BaseException, kind: type[BaseException]) -> Any:
    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, kind):
        seen = seen.__cause__ or seen.__context__
    assert seen is not None, f"no {kind.__name__} behind {exc!r}"
    return seen


@pytest.mark.parametrize(
    ("cassette", "overrides", "same_run", "agent", "epoch", "step", "phase", "nearest", "reason"), MISSES
)
def test_a_miss_stops_the_run_naming_the_request_and_the_nearest_key(
    recorded: Recorded,
    tmp_path: Path,
    cassette: Callable[[Recorded], Any],
    overrides: list[str],
    same_run: bool,
    agent: str | None,
    epoch: int,
    step: int,
    phase: str,
    nearest: str | None,
    reason: str,
) -> None:
    path = write(tmp_path, recorded, cassette(recorded))
    out = tmp_path / "out"
    with pytest.raises(SimulationError) as failed:
        anyio.run(run_with, scenario(*_overrides(overrides)), out, LLMBackend(replay=str(path)))
    miss = _cause(failed.value, CassetteMiss)
    message = str(failed.value)
    asked = agent or miss.where.agent
    assert message.startswith(f"the run stopped: agent {asked}: ")
    assert f"{asked} at epoch {epoch}, step {step} ({phase})" in message
    assert (miss.where.agent, miss.where.epoch, miss.where.step, miss.where.phase) == (
        asked,
        epoch,
        step,
        phase,
    )
    assert reason in message
    if nearest is not None:
        assert "request key " + miss.key[:16] in message
        entries = {e["key"]: (n, e) for n, e in enumerate(recorded.entries, start=2)}
        line, near = entries[miss.nearest_key]
        assert f"nearest recorded key: {miss.nearest_key[:16]} (line {line}, " in message
        here = (near["epoch"], near["step"])
        if nearest == "same":
            assert (near["agent"], *here, near["phase"]) == (asked, epoch, step, phase)
        elif nearest == "before":
            assert near["agent"] == asked and here < (epoch, step)
        else:
            assert here <= (epoch, step)

    # The log written so far is intact: it reads, ends with run_ended(failed), and
    # every line before that is the line the complete run wrote.
    log = (out / "events.jsonl").read_text().splitlines()
    _, events = read_log(out / "events.jsonl")
    end = events[-1]
    assert isinstance(end, RunEnded) and end.reason == "failed"
    assert "no recorded answer" in end.wall_clock["error"] or "no longer validates" in end.wall_clock["error"]
    assert "no recorded answer" in message or "no longer validates" in message
    assert not [e for e in events if isinstance(e, PolicyFailed)], "a miss is never a policy failure"
    if same_run:
        assert log[:-1] == recorded.log[: len(log) - 1]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reason"] == "failed"


async def test_a_request_asked_more_often_than_recorded_says_so(tmp_path: Path) -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        text: str

    request = CompletionRequest(
        system="s",
        user="u",
        schema=Answer,
        model="m",
        metadata={"agent_id": "a", "epoch": "0", "step": "1", "phase": "act"},
    )
    recorder = RecordingAdapter(ScriptedAdapter(lambda r: {"text": "x"}), tmp_path / "c.jsonl")
    await recorder.complete(request)
    recorder.close()
    replay = ReplayAdapter(tmp_path / "c.jsonl")
    await replay.complete(request)
    with pytest.raises(CassetteMiss, match=r"recorded 1 time\(s\) and has been asked more often") as miss:
        await replay.complete(request)
    assert "for a at epoch 0, step 1 (act)" in str(miss.value) and miss.value.nearest_line == 2


# ------------------------------------------------------------------------------------------
# Recording: deterministic bytes, failures recorded, nothing lost


class Jittery:
    """Scripted answers after a random delay, so answers come back in a different order each run."""

    def __init__(self, seed: int, fail_every: int = 0, hang: int = 0) -> None:
        self.rng = random.Random(seed)
        self.calls = 0
        self.fail_every = fail_every
        self.hang = hang
        self.inner = ScriptedAdapter(lambda r: scripted_answer(r.system, r.user, r.schema.__name__))

    async def complete(self, request: CompletionRequest[Any]) -> Any:
        self.calls += 1
        call = self.calls
        await anyio.sleep(self.rng.random() * 0.003)
        if self.fail_every and call % self.fail_every == 0:
            raise ProviderError(
                "injected 500s until retries ran out", status=500, attempts=4, provider="mock"
            )
        if call == self.hang:
            await anyio.sleep(60)
        return await self.inner.complete(request)


def record_with(adapter: Any, path: Path, out: Path, sc: Any) -> None:
    writer = CassetteWriter(path)
    writer.begin(sc.scenario_id, sc.simulation.seed)
    recorder = RecordingAdapter(adapter, writer)

    def factory(agent_id: str, spec: Any, scenario: Any) -> LLMPolicy:
        return LLMPolicy(
            agent_id,
            recorder,
            model=spec.llm.model,
            persona=spec.llm.persona,
            components=scenario_components(scenario),
        )

    anyio.run(run_with, sc, out, factory)
    writer.close()


def test_the_same_run_records_the_same_bytes_whatever_order_answers_come_in(tmp_path: Path) -> None:
    sc = scenario("simulation.n_epochs=2")
    record_with(Jittery(1), tmp_path / "a.jsonl", tmp_path / "a", sc)
    record_with(Jittery(2), tmp_path / "b.jsonl", tmp_path / "b", sc)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert not list(tmp_path.glob("*.partial"))
    entries = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()[1:]]
    order = [(e["epoch"], e["step"], e["phase"] != "act", e["agent"]) for e in entries]
    assert order == sorted(order)


def test_failures_are_recorded_and_replayed_as_the_same_policy_failures(tmp_path: Path) -> None:
    sc = scenario("simulation.n_epochs=2", "simulation.policy_timeout=0.3")
    record_with(Jittery(3, fail_every=4, hang=6), tmp_path / "c.jsonl", tmp_path / "live", sc)
    live = (tmp_path / "live" / "events.jsonl").read_text().splitlines()
    failures = [json.loads(line) for line in live if '"policy_failed"' in line]
    assert any("ProviderError" in f["cause"] for f in failures)
    assert any("timed out" in f["cause"] for f in failures)
    anyio.run(run_with, sc, tmp_path / "replay", LLMBackend(replay=str(tmp_path / "c.jsonl")))
    assert (tmp_path / "replay" / "events.jsonl").read_text().splitlines()[:-1] == live[:-1]


def test_recording_leaves_an_existing_cassette_alone_until_it_has_something_to_write(tmp_path: Path) -> None:
    old = tmp_path / "c.jsonl"
    old.write_text("an earlier cassette\n")
    LLMBackend(record=str(old)).close()  # a run that never started
    assert old.read_text() == "an earlier cassette\n"


async def test_an_interrupted_recording_keeps_a_readable_partial_cassette(tmp_path: Path) -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        text: str

    writer = CassetteWriter(tmp_path / "c.jsonl")
    writer.begin("s", 1)
    recorder = RecordingAdapter(ScriptedAdapter(lambda r: {"text": r.user}), writer)
    for user in ("b", "a"):
        await recorder.complete(CompletionRequest(system="s", user=user, schema=Answer, model="m"))
    # no close(): the process died
    assert not (tmp_path / "c.jsonl").exists()
    replay = ReplayAdapter(tmp_path / "c.jsonl.partial")
    replay.check("s", 1)
    assert replay.entries == 2


# ------------------------------------------------------------------------------------------
# Through the command line: exit codes, messages, files


def swarm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "swarm.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "cassette-test.yaml"
    path.write_text(yaml.safe_dump(SCENARIO))
    return path


@pytest.mark.parametrize(
    ("mutate", "extra", "where"),
    [
        pytest.param(intact(), ["--seed", "6"], ":1: seed = 5", id="seed"),
        pytest.param(
            lambda lines: "".join(lines)[:-40], [], ":LAST\n  the last line is cut short", id="truncated"
        ),
    ],
)
def test_the_command_refuses_a_bad_cassette_with_exit_2_and_touches_nothing(
    recorded: Recorded,
    tmp_path: Path,
    scenario_file: Path,
    mutate: Callable[[list[str]], str],
    extra: list[str],
    where: str,
) -> None:
    path = write(tmp_path, recorded, mutate)
    out = prepared_out(tmp_path)
    done = swarm(
        "run", str(scenario_file), *extra, "--replay-llm", str(path), "--out", str(out), "--overwrite"
    )
    assert done.returncode == 2, done.stderr
    assert str(path) + where.replace("LAST", str(len(recorded.lines))) in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["events.jsonl"]
    assert (out / "events.jsonl").read_text() == PRECIOUS


def test_the_command_fails_a_run_that_misses_with_exit_3_and_keeps_its_log(
    recorded: Recorded, tmp_path: Path, scenario_file: Path
) -> None:
    path = write(tmp_path, recorded, _cut_after(0, 2)(recorded))
    out = tmp_path / "out"
    done = swarm("run", str(scenario_file), "--replay-llm", str(path), "--out", str(out))
    assert done.returncode == 3, done.stderr
    assert "at epoch 1, step 0 (act), request key " in done.stderr
    assert "nearest recorded key: " in done.stderr and "the cassette ends at epoch 0, step 2" in done.stderr
    assert "Traceback" not in done.stderr
    log = (out / "events.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["type"] == "run_ended" and json.loads(log[-1])["reason"] == "failed"
    assert log[:-1] == recorded.log[: len(log) - 1]
    assert json.loads((out / "summary.json").read_text())["reason"] == "failed"


def test_the_shipped_cassette_matches_the_shipped_scenario() -> None:
    cassette = ROOT / "scenarios" / "cassettes" / "llm_agents.jsonl"
    replay = ReplayAdapter(cassette)
    sc = load_scenario(ROOT / "scenarios" / "llm_agents.yaml")
    replay.check(sc.scenario_id, sc.simulation.seed)
    assert replay.entries > 100
