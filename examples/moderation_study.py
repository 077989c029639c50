"""What moderators and posters change in a run, over seeds (the numbers in docs/social.md, "Roles").

Two studies, each over the same seeds, 10 epochs × 10 steps:

* **moderators**: 5 honest, 2 opportunistic and 3 adversarial agents plus 2 honest agents
  that are moderators — or, as the control, plain workers (same ids, same streams);
* **posters**: 4 honest, 2 opportunistic and 1 adversarial agents plus 3 honest posters
  with no content strategy (the control), or a neutral, helpful or provocative one, each
  with one more honest agent that is a moderator or, as the control, a worker.

Prints the mean and 95 % t-interval of each measure, and the paired differences.

    python examples/moderation_study.py --seeds 10
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import swarm
from swarm.analysis.aggregate import mean_ci

Log = list[dict[str, Any]]


def run_log(agents: list[dict[str, Any]], seed: int, epochs: int, steps: int) -> tuple[Log, Any]:
    sc = swarm.load_scenario(
        {
            "scenario_id": "moderation_study",
            "agents": agents,
            "simulation": {"n_epochs": epochs, "steps_per_epoch": steps, "seed": seed},
        }
    )
    with tempfile.TemporaryDirectory() as d:
        result = swarm.run(sc, out_dir=d)
        lines = (Path(d) / "events.jsonl").read_text().splitlines()[1:]
    return [json.loads(x) for x in lines], result


def kind(agent: str) -> str:
    return agent.rsplit("_", 1)[0]


def moderator_measures(log: Log, result: Any) -> dict[str, float]:
    author = {e["post_id"]: e["author"] for e in log if e["type"] == "post_created"}
    hidden = [kind(author[e["post_id"]]) for e in log if e["type"] == "post_hidden"]
    posts = [kind(a) for a in author.values()]
    reps = {a.agent_id: a.reputation for a in result.agents}
    return {
        "votes counted on adversarial posts": sum(
            1
            for e in log
            if e["type"] == "vote_cast" and e["changed"] and kind(author[e["post_id"]]) == "adversarial"
        ),
        "adversarial posts hidden (share)": hidden.count("adversarial") / max(1, posts.count("adversarial")),
        "opportunistic posts hidden (share)": hidden.count("opportunistic")
        / max(1, posts.count("opportunistic")),
        "honest posts hidden": hidden.count("honest") + hidden.count("mod"),
        "adversaries' final reputation": sum(v for a, v in reps.items() if kind(a) == "adversarial") / 3,
        "honest agents' final reputation": sum(v for a, v in reps.items() if kind(a) == "honest") / 5,
        "toxicity": result.summary.avg_toxicity,
    }


def poster_measures(log: Log, result: Any) -> dict[str, float]:
    author = {e["post_id"]: e["author"] for e in log if e["type"] == "post_created"}
    mine = {p for p, a in author.items() if kind(a) == "poster"}
    votes = [e for e in log if e["type"] == "vote_cast" and e["changed"] and e["post_id"] in mine]
    reps = {a.agent_id: a.reputation for a in result.agents}
    return {
        "posts and replies by posters": len(mine),
        "replies to posters' posts": sum(
            1 for e in log if e["type"] == "post_created" and e["parent_id"] in mine
        ),
        "votes up on posters' posts": sum(1 for e in votes if e["direction"] > 0),
        "votes down on posters' posts": sum(1 for e in votes if e["direction"] < 0),
        "posters' posts hidden": sum(1 for e in log if e["type"] == "post_hidden" and e["post_id"] in mine),
        "posters' final reputation": sum(v for a, v in reps.items() if kind(a) == "poster") / 3,
        "deepest thread": max(
            (e["max_thread_depth"] for e in log if e["type"] == "feed_measured"), default=0
        ),
    }


def moderators(role: str) -> list[dict[str, Any]]:
    return [
        {"type": "honest", "count": 5},
        {"type": "opportunistic", "count": 2},
        {"type": "adversarial", "count": 3},
        {"type": "honest", "name": "mod", "count": 2, "role": role},
    ]


def posters(tone: str | None, role: str) -> list[dict[str, Any]]:
    poster: dict[str, Any] = {"type": "honest", "name": "poster", "count": 3, "role": "poster"}
    if tone is not None:
        poster["role_config"] = {"tone": tone}
    return [
        {"type": "honest", "count": 4},
        {"type": "opportunistic", "count": 2},
        {"type": "adversarial", "count": 1},
        poster,
        {"type": "honest", "name": "mod", "count": 1, "role": role},
    ]


def fmt(xs: Sequence[float]) -> str:
    mean, _, lo, hi = mean_ci(xs)
    return f"{mean:.3g} [{lo:.3g}, {hi:.3g}]"


def table(
    arms: dict[str, list[dict[str, Any]]],
    measure: Callable[[Log, Any], dict[str, float]],
    seeds: Sequence[int],
    epochs: int,
    steps: int,
) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    for name, agents in arms.items():
        rows = [measure(*run_log(agents, seed, epochs, steps)) for seed in seeds]
        out[name] = {k: [float(r[k]) for r in rows] for k in rows[0]}
    keys = list(next(iter(out.values())))
    print("| arm | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, values in out.items():
        print(f"| {name} | " + " | ".join(fmt(values[k]) for k in keys) + " |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    seeds = list(range(args.seeds))
    print(f"Moderators ({len(seeds)} seeds, mean and 95 % t-interval):\n")
    mod = table(
        {"no moderators": moderators("worker"), "2 moderators": moderators("moderator")},
        moderator_measures,
        seeds,
        args.epochs,
        args.steps,
    )
    print("\nPaired differences, 2 moderators minus none:")
    for key in mod["no moderators"]:
        diffs = [b - a for a, b in zip(mod["no moderators"][key], mod["2 moderators"][key], strict=True)]
        print(f"  {key}: {fmt(diffs)}")
    print(f"\nPosters ({len(seeds)} seeds):\n")
    arms = {
        f"{tone or 'no strategy'}{', moderator' if role == 'moderator' else ''}": posters(tone, role)
        for role in ("worker", "moderator")
        for tone in (None, "neutral", "helpful", "provocative")
    }
    table(arms, poster_measures, seeds, args.epochs, args.steps)


if __name__ == "__main__":
    main()
