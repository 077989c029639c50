"""docs/extending.md: every snippet runs as written, and together they make a working run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swarm import Observation, load_scenario, run
from swarm.actions import NOOP, Action
from swarm.agents.types import AGENT_TYPES
from swarm.errors import ScenarioError
from swarm.governance.lever import LEVERS
from swarm.kernel.component import COMPONENTS
from swarm.metrics.registry import EPOCH_METRICS, RUN_FIGURES
from tests.conftest import ROOT

DOC = ROOT / "docs" / "extending.md"


def snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture
def extended() -> Iterator[dict[str, Any]]:
    namespaces: dict[str, Any] = {}
    try:
        for k, code in enumerate(snippets()):
            ns: dict[str, Any] = {"__name__": f"extending_doc_{k}"}
            exec(compile(code, f"{DOC}:snippet {k + 1}", "exec"), ns)
            namespaces.update(ns)
        yield namespaces
    finally:
        AGENT_TYPES.remove("cautious")
        LEVERS.remove("wealth_tax")
        EPOCH_METRICS.remove("rich_share")
        RUN_FIGURES.remove("avg_rich_share")
        COMPONENTS.remove("gifts")


def test_the_doc_has_one_snippet_per_registry() -> None:
    assert len(snippets()) == 4


def test_each_snippet_registers_what_it_says(extended: dict[str, Any]) -> None:
    assert "cautious" in AGENT_TYPES and "wealth_tax" in LEVERS and "gifts" in COMPONENTS
    assert "rich_share" in EPOCH_METRICS and "avg_rich_share" in RUN_FIGURES


def test_the_new_keys_are_validated_and_the_lever_cannot_lie(extended: dict[str, Any]) -> None:
    with pytest.raises(ScenarioError, match="wealth_tax_rate"):
        load_scenario({"agents": [{"type": "cautious"}], "governance": {"wealth_tax_threshold": 10.0}})
    with pytest.raises(ScenarioError, match=r"gifts.max_gift"):
        load_scenario({"agents": [{"type": "cautious"}], "gifts": {"max_gift": 0}})
    with pytest.raises(ScenarioError, match=r"agents.0.config.min_reputation"):
        load_scenario({"agents": [{"type": "cautious", "config": {"min_reputation": "high"}}]})


def test_the_four_additions_work_together_in_one_run(extended: dict[str, Any], tmp_path: Path) -> None:
    give = extended["Give"]

    class Generous:
        """Gives 5 to the poorest other agent every step (it is test code, not from the doc)."""

        conduct = extended["CautiousPolicy"].default_conduct

        def decide(self, observation: Observation) -> Action:
            others = [a for a in observation.snapshot.agents if a.agent_id != observation.agent_id]
            if not observation.can(give) or not others:
                return NOOP
            poorest = min(others, key=lambda a: (a.resources, a.agent_id))
            return give(recipient=poorest.agent_id, amount=5.0)  # type: ignore[no-any-return]

        def accept(self, observation: Observation, proposal: Any) -> bool:
            return True

        def observe(self, outcome: Any) -> None:
            pass

    sc = load_scenario(
        {
            "scenario_id": "extended",
            "agents": [{"type": "cautious", "count": 3}, {"type": "honest", "count": 3}],
            "simulation": {"n_epochs": 4, "steps_per_epoch": 5, "seed": 4},
            "gifts": {"max_gift": 5.0},
            "rate_limits": {"gifts_per_epoch": 2},
            "governance": {"wealth_tax_rate": 0.5, "wealth_tax_threshold": 101.0},
            "success_criteria": {"min_avg_rich_share": 0.0},
        }
    )
    result = run(sc, out_dir=tmp_path, policies={"honest_1": Generous()})
    assert result.reason == "completed" and result.passed
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()[1:]]
    gifts = [e for e in events if e["type"] == "given"]
    assert len(gifts) == 4 * 2 and all(e["giver"] == "honest_1" for e in gifts)
    taxed = [e for e in events if e["type"] == "governance_resources" and e["lever"] == "wealth_tax"]
    assert taxed and all(e["amount"] < 0 and e["account"] == "governance:treasury" for e in taxed)
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0].split(",")
    assert "rich_share" in header
    assert result.summary["avg_rich_share"] is not None
    assert any(e["type"] == "interaction_proposed" and e["initiator"].startswith("cautious_") for e in events)
