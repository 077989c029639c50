"""Payloads in feed posts (``security.posts``): readers exposed as through their inbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swarm.agents.llm_responder import _taken_over
from swarm.env.security import payload_text
from tests.swarm.env.test_security import _events, _of, _scenario


def _posting(susceptibility: float, *, posts: bool = True, evasion: float = 1.0, **kw: Any) -> dict[str, Any]:
    data = _scenario(
        n=6, injector={"channel": "post", "evasion": evasion}, susceptibility=susceptibility, **kw
    )
    data["security"]["posts"] = posts
    del data["network"]
    data["simulation"]["n_epochs"] = 2
    return data


def test_a_posted_worm_takes_over_readers_only_with_posts_on_and_susceptibility(tmp_path: Path) -> None:
    hot = _events(_posting(0.9), tmp_path / "hot")
    attempts, wins = _of(hot, "injection_attempted"), _of(hot, "injection_succeeded")
    assert attempts and wins
    assert {e["source"] for e in attempts} >= {"injector_1"}
    assert all(e["agent_id"].startswith("llm") for e in attempts + wins)
    reposted = {e["author"] for e in _of(hot, "post_created") if "[[payload:worm" in e["content"]}
    assert {e["agent_id"] for e in wins} <= reposted  # a worm read in a post is posted again
    cold = _events(_posting(0.0), tmp_path / "cold")
    assert _of(cold, "injection_attempted") and not _of(cold, "injection_succeeded")
    off = _events(_posting(0.9, posts=False), tmp_path / "off")
    assert not _of(off, "injection_attempted") and not _of(off, "injection_succeeded")


def test_the_lever_scores_post_text_and_quarantines_an_overt_poster(tmp_path: Path) -> None:
    data = _posting(0.9, evasion=0.0, governance={"security_enabled": True})
    events = _events(data, tmp_path / "held")
    frozen = {
        e["agent_id"] for e in events if e.get("lever") == "security" and e["type"] == "governance_freeze"
    }
    assert "injector_1" in frozen
    free = _events(_posting(0.9, evasion=0.0), tmp_path / "free")
    assert len(_of(events, "injection_attempted")) < len(_of(free, "injection_attempted"))


def test_the_double_follows_a_payload_in_a_feed_post_with_its_susceptibility() -> None:
    text = payload_text("worm", "x", "x", False)
    feed = {"posts": [{"post_id": "post-1", "author": "x", "content": text}]}
    shown = {"your_secret_key": "sk-0123456789abcdef", "inbox": []}
    taken = [_taken_over("sys", f"user {i}", shown, 1.0, feed) for i in range(5)]
    assert all(t is not None and t["action"] == {"type": "post", "content": text} for t in taken)
    assert all(_taken_over("sys", f"user {i}", shown, 0.0, feed) is None for i in range(5))
    assert _taken_over("sys", "user", shown, 1.0, {"posts": []}) is None
    leak = payload_text("leak", "x", "boss", True)
    got = _taken_over("sys", "u", shown, 1.0, {"replies": [{"content": leak}]})
    assert got is not None and got["action"]["recipient"] == "boss"
    assert "sk-0123456789abcdef" in got["action"]["content"]
