"""The moderator and poster roles change what happens in a run; their settings are checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from swarm import load_scenario, run
from swarm.actions import Conduct
from swarm.agents.llm_backend import LLMBackend
from swarm.agents.roles import unwrap, with_role
from swarm.agents.roles.moderator import ModeratorRole, content_severity
from swarm.agents.roles.poster import PosterRole
from swarm.agents.types import AGENT_TYPES, BuildContext
from swarm.env.feed import CastVote, CreatePost, FeedView, PostView, Reply
from swarm.env.moderation import Moderate, ModerationView
from swarm.errors import ScenarioError
from swarm.runtime.rng import Stream
from swarm.scenario import Scenario
from swarm.views import AgentPublic, Observation, Snapshot

SEEDS = (0, 1, 2)


def scenario(agents: list[dict[str, Any]], seed: int, **sections: Any) -> Scenario:
    return load_scenario(
        {
            "scenario_id": "roles",
            "agents": agents,
            "simulation": {"n_epochs": 4, "steps_per_epoch": 8, "seed": seed},
            **sections,
        }
    )


def events(sc: Scenario, tmp: Path, **kw: Any) -> list[dict[str, Any]]:
    run(sc, out_dir=tmp, **kw)
    return [json.loads(line) for line in (tmp / "events.jsonl").read_text().splitlines()[1:]]


def of(log: list[dict[str, Any]], kind: str) -> Iterator[dict[str, Any]]:
    return (e for e in log if e["type"] == kind)


def authors(log: list[dict[str, Any]]) -> dict[str, str]:
    return {e["post_id"]: e["author"] for e in of(log, "post_created")}


def reputation(log: list[dict[str, Any]], prefix: str) -> float:
    """Mean final reputation of the agents whose id starts with ``prefix`` (from the ledger events)."""
    last: dict[str, float] = {}
    for e in of(log, "ledger_updated"):
        last[e["agent_id"]] = e["reputation"]
    values = [v for a, v in last.items() if a.startswith(prefix)]
    return sum(values) / len(values) if values else 0.0


# ---------------------------------------------------------------- moderators


def moderated(role: str, seed: int, **sections: Any) -> Scenario:
    return scenario(
        [
            {"type": "honest", "count": 5},
            {"type": "adversarial", "count": 3},
            {"type": "opportunistic", "count": 2},
            {"type": "honest", "name": "mod", "count": 2, "role": role},
        ],
        seed,
        **sections,
    )


def test_moderators_hide_hostile_posts_which_then_draw_fewer_votes_and_cost_their_authors(
    tmp_path: Path,
) -> None:
    votes = {"worker": 0, "moderator": 0}
    rep = {"worker": 0.0, "moderator": 0.0}
    for seed in SEEDS:
        for role in votes:
            log = events(moderated(role, seed), tmp_path / f"{role}{seed}")
            by = authors(log)
            hidden = [by[e["post_id"]] for e in of(log, "post_hidden")]
            if role == "worker":
                assert hidden == [] and not any(of(log, "moderation_measured"))
            else:
                assert any(a.startswith("adversarial") for a in hidden)
                assert not any(a.startswith(("honest", "mod")) for a in hidden)  # no honest post is hidden
                warned = {e["agent_id"] for e in of(log, "agent_warned")}
                assert warned <= {a for a in by.values() if not a.startswith(("honest", "mod"))}
            votes[role] += sum(
                1 for e in of(log, "vote_cast") if e["changed"] and by[e["post_id"]].startswith("adversarial")
            )
            rep[role] += reputation(log, "adversarial")
    assert votes["moderator"] < votes["worker"]
    assert rep["moderator"] < rep["worker"]


def test_warnings_freeze_repeat_offenders_when_the_scenario_asks(tmp_path: Path) -> None:
    sc = moderated("moderator", 0, moderation={"freeze_after_warnings": 2, "freeze_epochs": 1})
    log = events(sc, tmp_path)
    freezes = [e for e in of(log, "governance_freeze") if e["lever"] == "moderation"]
    assert freezes and all(e["agent_id"].startswith(("adversarial", "opportunistic")) for e in freezes)
    assert {e["agent_id"] for e in of(log, "agent_frozen")} >= {e["agent_id"] for e in freezes}


def test_moderators_of_a_scenario_that_switches_moderation_off_are_left_to_their_type(tmp_path: Path) -> None:
    log = events(moderated("moderator", 0, moderation={"enabled": False}), tmp_path)
    assert not any(e["type"] in ("post_hidden", "moderation_measured") for e in log)
    assert not any(e.get("action") == "moderate" for e in of(log, "action_rejected"))
    policies = {e["policy"] for e in of(log, "agent_created") if e["agent_id"].startswith("mod")}
    assert policies == {"HonestPolicy"}


def test_a_careless_moderator_lets_more_through() -> None:
    sc = moderated("moderator", 0)
    post = PostView("post-1", "adversarial_1", "The whole board is rigged and a joke.", downvotes=3)
    snap = Snapshot(
        0,
        0,
        (AgentPublic("mod_1", 0.0, 100.0),),
        {FeedView: FeedView((post,), 1), ModerationView: ModerationView()},
    )
    obs = Observation("mod_1", snap.agents[0], snap)

    def caught(effort: float) -> int:
        roles = [ModeratorRole("mod_1", Stream.of(k, "t"), sc) for k in range(200)]
        return sum(isinstance(r.act(obs, _conduct(effort)), Moderate) for r in roles)

    assert caught(0.5) == 200  # effort 0.5 or more: it reviews every step
    assert 5 < caught(-0.4) < 50  # reviews with chance 0.1


def _conduct(effort: float) -> Conduct:
    return Conduct(effort=effort)


def test_severity_reads_content_record_and_votes() -> None:
    assert content_severity("Sharing a summary of what worked on my last task.") == 0
    assert content_severity("This whole board is rigged.") == 1
    assert content_severity("I will destroy you, you must pay") == 3  # capped
    sc = moderated("moderator", 0)
    role = ModeratorRole("mod_1", Stream.of(1, "t"), sc)
    calm = PostView("post-1", "x_1", "This whole board is rigged.")
    snap = Snapshot(
        0,
        0,
        (AgentPublic("mod_1", 0.0, 100.0), AgentPublic("x_1", -1.0, 100.0)),
        {ModerationView: ModerationView({"x_1": 1})},
    )
    obs = Observation("mod_1", snap.agents[0], snap)
    assert role.severity(calm, obs) == 3  # content 1, reputation below 0, warned before
    voted_down = msgspec.structs.replace(calm, downvotes=3, upvotes=1)
    assert role.severity(voted_down, obs) == 4


# ------------------------------------------------------------------- posters


def with_posters(strategy: dict[str, Any] | None, seed: int, moderator: bool = False) -> Scenario:
    poster: dict[str, Any] = {"type": "honest", "name": "poster", "count": 3, "role": "poster"}
    if strategy is not None:
        poster["role_config"] = strategy
    return scenario(
        [
            {"type": "honest", "count": 4},
            {"type": "opportunistic", "count": 2},
            poster,
            {"type": "honest", "name": "mod", "count": 1, "role": "moderator" if moderator else "worker"},
        ],
        seed,
    )


def test_a_content_strategy_makes_posters_write_and_reply_more(tmp_path: Path) -> None:
    for seed in SEEDS:
        plain = events(with_posters(None, seed), tmp_path / f"plain{seed}")
        strategic = events(with_posters({"tone": "neutral"}, seed), tmp_path / f"strategy{seed}")

        def written(log: list[dict[str, Any]]) -> tuple[int, int]:
            mine = [e for e in of(log, "post_created") if e["author"].startswith("poster")]
            return len(mine), sum(1 for e in mine if e["parent_id"])

        (posts0, replies0), (posts1, replies1) = written(plain), written(strategic)
        assert posts1 > posts0 and replies1 > replies0 == 0
        assert not any(of(plain, "feed_measured")) and any(of(strategic, "feed_measured"))
        depth = max(e["max_thread_depth"] for e in of(strategic, "feed_measured"))
        assert depth >= 2  # replies to replies: threads


def test_tone_changes_engagement_and_what_moderators_do(tmp_path: Path) -> None:
    drawn = {"helpful": 0, "provocative": 0}
    hidden = {"helpful": 0, "provocative": 0}
    for seed in SEEDS:
        for tone in drawn:
            log = events(with_posters({"tone": tone}, seed, moderator=True), tmp_path / f"{tone}{seed}")
            by = authors(log)
            drawn[tone] += sum(
                1
                for e in of(log, "post_created")
                if e["parent_id"] and by[e["parent_id"]].startswith("poster")
            )
            hidden[tone] += sum(1 for e in of(log, "post_hidden") if by[e["post_id"]].startswith("poster"))
    assert hidden["helpful"] == 0 < hidden["provocative"]
    free = {"helpful": 0, "provocative": 0}  # replies drawn without a moderator to hide the bait
    for seed in SEEDS:
        for tone in free:
            log = events(with_posters({"tone": tone}, seed), tmp_path / f"free{tone}{seed}")
            by = authors(log)
            free[tone] += sum(
                1
                for e in of(log, "post_created")
                if e["parent_id"] and by[e["parent_id"]].startswith("poster")
            )
    assert free["provocative"] > free["helpful"]


def observation(*posts: PostView, me: str = "poster_1") -> Observation:
    agents = (AgentPublic(me, 0.0, 100.0), *(AgentPublic(p.author, 0.0, 100.0) for p in posts))
    snap = Snapshot(0, 0, agents, {FeedView: FeedView(posts, len(posts))})
    return Observation(me, agents[0], snap)


def test_helpful_posters_vote_down_provocation_and_provocative_ones_vote_it_up() -> None:
    bait = PostView("post-1", "x_1", "Hot take: tasks is a joke and everyone knows it!")
    calm = PostView("post-2", "x_2", "Notes on tasks.")
    obs = observation(calm, bait)
    votes = {}
    for tone in ("helpful", "provocative"):
        role = PosterRole("poster_1", Stream.of(3, "t"), None, {"tone": tone, "post_probability": 0.0})
        chosen = [a for a in (role.act(obs, _conduct(0.4)) for _ in range(20)) if isinstance(a, CastVote)]
        votes[tone] = chosen[0]
    assert (votes["helpful"].post_id, votes["helpful"].direction) == ("post-1", -1)
    assert (votes["provocative"].post_id, votes["provocative"].direction) == ("post-1", 1)


def test_posters_write_in_their_tone_about_their_topics_and_reply_by_priority() -> None:
    obs = observation(PostView("post-1", "x_1", "Notes on tasks."))
    role = PosterRole(
        "poster_1",
        Stream.of(5, "t"),
        None,
        {"tone": "provocative", "topics": ["zebras"], "post_probability": 1.0, "reply_priority": 0.0},
    )
    action = role.act(obs, _conduct(0.4))
    assert (
        isinstance(action, CreatePost)
        and "zebras" in action.content
        and content_severity(action.content) >= 1
    )
    replier = PosterRole(
        "poster_1",
        Stream.of(5, "t"),
        None,
        {"tone": "helpful", "reply_priority": 1.0, "post_probability": 1.0},
    )
    answer = replier.act(obs, _conduct(0.4))
    assert (
        isinstance(answer, Reply) and answer.parent_id == "post-1" and content_severity(answer.content) == 0
    )
    spaced = PosterRole(
        "poster_1", Stream.of(5, "t"), None, {"post_probability": 1.0, "min_post_interval": 3}
    )
    kinds = [type(spaced.act(obs, _conduct(0.4))) for _ in range(6)]
    assert [k in (CreatePost, Reply) for k in kinds] == [True, False, False, True, False, False]


def test_a_poster_without_a_strategy_is_left_as_its_type_was() -> None:
    sc = with_posters(None, 0)
    ctx = BuildContext(sc, 0, {})
    spec = sc.agents[2]
    policy = AGENT_TYPES["honest"].build("poster_1", spec, ctx)
    assert with_role(policy, "poster", "poster_1", ctx.stream("poster_1"), sc, spec.role_config) is policy
    wrapped = with_role(policy, "poster", "poster_1", ctx.stream("poster_1"), sc, {"tone": "helpful"})
    assert wrapped is not policy and unwrap(wrapped) is policy


# ---------------------------------------------------- logs, determinism, keys


def test_same_seed_same_log_with_moderators_and_posters(tmp_path: Path) -> None:
    agents = [
        {"type": "honest", "count": 3},
        {"type": "adversarial", "count": 2},
        {
            "type": "honest",
            "name": "poster",
            "count": 2,
            "role": "poster",
            "role_config": {"tone": "provocative"},
        },
        {"type": "honest", "name": "mod", "count": 1, "role": "moderator"},
    ]
    logs = []
    for k in range(2):
        log = events(scenario(agents, 11), tmp_path / str(k))
        logs.append([{k2: v for k2, v in e.items() if k2 != "wall_clock"} for e in log])
    assert logs[0] == logs[1]
    assert any(of(logs[0], "post_hidden")) and any(of(logs[0], "feed_measured"))
    metrics = next(of(logs[0], "epoch_completed"))["metrics"]
    assert {"feed_max_thread_depth", "moderation_hidden", "moderation_warnings"} <= set(metrics)


def test_a_run_without_these_roles_logs_no_feed_or_moderation_figures(tmp_path: Path) -> None:
    log = events(with_posters(None, 0), tmp_path)
    assert not any(e["type"] in ("feed_measured", "moderation_measured", "post_hidden") for e in log)
    metrics = next(of(log, "epoch_completed"))["metrics"]
    assert not any(k.startswith(("feed_", "moderation_")) for k in metrics)
    policies = {e["agent_id"]: e["policy"] for e in of(log, "agent_created")}
    assert policies["poster_1"] == "HonestPolicy"


@pytest.mark.parametrize(
    ("item", "sections", "where", "says"),
    [
        (
            {"role": "moderator", "role_config": {"hide_treshold": 3}},
            {},
            "agents.0.role_config.hide_treshold",
            "unknown key",
        ),
        (
            {"role": "moderator", "role_config": {"warn_threshold": 4, "hide_threshold": 3}},
            {},
            "agents.0.role_config.warn_threshold",
            "above hide_threshold",
        ),
        (
            {"role": "moderator", "role_config": {"hide_threshold": 9}},
            {},
            "agents.0.role_config.hide_threshold",
            "less than or equal to 5",
        ),
        (
            {"role": "poster", "role_config": {"tone": "angry"}},
            {},
            "agents.0.role_config.tone",
            "'provocative'",
        ),
        (
            {"role": "poster", "role_config": {"topics": [""]}},
            {},
            "agents.0.role_config.topics.0",
            "not a topic",
        ),
        (
            {"role": "poster", "role_config": {"reply_priority": 2}},
            {},
            "agents.0.role_config.reply_priority",
            "1",
        ),
        ({}, {"moderation": {"warning_penalty": 0.1}}, "moderation", "no agent has role: moderator"),
        (
            {"role": "moderator"},
            {"moderation": {"warning_penalty": -1}},
            "moderation.warning_penalty",
            ">= 0",
        ),
        (
            {"role": "moderator"},
            {"moderation": {"freeze_after_warnings": 0}},
            "moderation.freeze_after_warnings",
            ">= 1",
        ),
        (
            {"role": "moderator"},
            {"rate_limits": {"moderations_per_step": -1}},
            "rate_limits.moderations_per_step",
            ">= 0",
        ),
    ],
)
def test_bad_role_and_moderation_keys_are_refused_clearly(
    item: dict[str, Any], sections: dict[str, Any], where: str, says: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario({"agents": [{"type": "honest", **item}], **sections})
    message = str(info.value)
    assert where in message and says in message


# ------------------------------------------------------------------ LLM agents


def test_an_llm_agent_can_moderate(tmp_path: Path) -> None:
    sc = scenario(
        [
            {"type": "honest", "count": 3},
            {"type": "adversarial", "count": 2},
            {"type": "llm", "count": 1, "role": "moderator", "llm": {"provider": "scripted", "model": "m"}},
        ],
        3,
    )
    backend = LLMBackend(scripted=True)
    llm = AGENT_TYPES["llm"].build("llm_1", sc.agents[2], BuildContext(sc, 3, {}, backend))
    told = with_role(llm, "moderator", "llm_1", Stream.of(3, "llm_1"), sc)
    assert f"Your role: {ModeratorRole.prompt}" in unwrap(told).system
    assert "moderate" in json.dumps(unwrap(told).schema.model_json_schema())
    log = events(sc, tmp_path, llm_factory=LLMBackend(scripted=True))
    by = authors(log)
    hidden = [e for e in of(log, "post_hidden")]
    assert hidden and all(e["moderator"] == "llm_1" for e in hidden)
    assert all(by[e["post_id"]].startswith("adversarial") for e in hidden)


def test_an_llm_poster_is_told_its_strategy_and_writes_itself() -> None:
    sc = scenario([{"type": "llm", "llm": {"provider": "scripted", "model": "m"}}], 0)
    llm = AGENT_TYPES["llm"].build("llm_1", sc.agents[0], BuildContext(sc, 0, {}, LLMBackend(scripted=True)))
    strategy = {"tone": "helpful", "topics": ["zebras"]}
    told = with_role(llm, "poster", "llm_1", Stream.of(0, "llm_1"), sc, strategy)
    system = unwrap(told).system
    assert "Your role: you are a poster" in system and "zebras" in system and "tone: helpful" in system
    assert not PosterRole.scripted_for_llm  # the model chooses its posts


def test_moderate_actions_decode_from_an_llm_answer() -> None:
    action = msgspec.json.decode(b'{"type": "moderate", "hide": ["post-3"], "reason": "spam"}', type=Moderate)
    assert action.hide == ["post-3"] and action.warn == []


# ------------------------------------------------------- checkpoints and shards


def busy(seed: int = 5) -> Scenario:
    return scenario(
        [
            {"type": "honest", "count": 3},
            {"type": "adversarial", "count": 2},
            {
                "type": "honest",
                "name": "poster",
                "count": 2,
                "role": "poster",
                "role_config": {"tone": "provocative"},
            },
            {"type": "honest", "name": "mod", "count": 1, "role": "moderator"},
        ],
        seed,
        moderation={"freeze_after_warnings": 3},
    )


def test_a_killed_moderated_run_resumes_to_the_same_log(tmp_path: Path) -> None:
    import anyio

    from swarm.runtime import checkpoint as ck
    from swarm.runtime.simulation import Simulation

    sc = busy()

    async def go(out: Path, **kw: Any) -> None:
        async with Simulation(sc, out_dir=out, **kw) as sim:
            await sim.wait()

    async def again(d: Path) -> None:
        async with Simulation.resume_run(d) as sim:
            await sim.wait()

    anyio.run(go, tmp_path / "plain")
    anyio.run(lambda: go(tmp_path / "with", checkpoint_every=1))
    cut = ck.read_info(ck.path_for(tmp_path / "with", 2)).log_bytes + 100  # inside epoch 2
    with (tmp_path / "with" / "events.jsonl").open("r+b") as fh:
        fh.truncate(cut)
    for path in ck.list_checkpoints(tmp_path / "with"):
        if ck.read_info(path).log_bytes > cut:
            path.unlink()
    anyio.run(again, tmp_path / "with")

    def lines(p: Path) -> list[bytes]:
        return [x for x in p.read_bytes().splitlines() if b'"run_ended"' not in x]

    plain = lines(tmp_path / "plain" / "events.jsonl")
    assert lines(tmp_path / "with" / "events.jsonl") == plain
    late = [x for x in plain if b'"post_hidden"' in x and b'"epoch":3' in x]
    assert late  # moderation went on after the resume


def test_a_sharded_moderated_run_logs_what_one_process_logs(tmp_path: Path) -> None:
    sc = busy()
    run(sc, out_dir=tmp_path / "one")
    run(sc, out_dir=tmp_path / "two", shards=2)

    def lines(p: Path) -> list[str]:
        return [x for x in p.read_text().splitlines() if '"run_ended"' not in x]

    one = lines(tmp_path / "one" / "events.jsonl")
    assert any('"post_hidden"' in x for x in one) and one == lines(tmp_path / "two" / "events.jsonl")
