from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from swarm.core import InteractionType, Observables, SoftInteraction


def make(**fields: Any) -> SoftInteraction:
    return SoftInteraction(interaction_id="i1", initiator="a", counterparty="b", **fields)


def test_interaction_defaults_are_a_neutral_unanswered_reply() -> None:
    i = make()
    assert i.interaction_type is InteractionType.REPLY
    assert not i.accepted
    assert i.observables == Observables()
    assert (i.v_hat, i.p, i.tau, i.c_a, i.c_b, i.r_a, i.r_b) == (0.0, 0.5, 0, 0, 0, 0, 0)
    assert i.ground_truth is None
    assert (i.epoch, i.step) == (0, 0)


@pytest.mark.parametrize(
    ("member", "value"),
    [
        (InteractionType.REPLY, "reply"),
        (InteractionType.VOTE, "vote"),
        (InteractionType.TRADE, "trade"),
        (InteractionType.COLLABORATION, "collaboration"),
    ],
)
def test_interaction_type_values_are_the_reference_strings(member: InteractionType, value: str) -> None:
    assert member == value
    assert InteractionType(value) is member


@pytest.mark.parametrize("field", ["rework_count", "verifier_rejections", "tool_misuse_flags"])
def test_negative_counts_are_rejected(field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Observables(**{field: -1})
    assert info.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize(
    "fields",
    [
        {"p": -0.01},
        {"p": 1.01},
        {"p": float("nan")},
        {"v_hat": -1.5},
        {"v_hat": 1.5},
        {"ground_truth": 0},
        {"interaction_type": "gossip"},
        {"timestamp": "2024-01-01T00:00:00"},
    ],
)
def test_invalid_interaction_fields_are_rejected(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        make(**fields)


def test_interactions_and_observables_are_immutable() -> None:
    i = make()
    with pytest.raises(ValidationError):
        i.p = 0.9  # type: ignore[misc]
    with pytest.raises(ValidationError):
        i.observables.rework_count = 2  # type: ignore[misc]


def test_interaction_round_trips_through_json() -> None:
    i = make(
        interaction_type=InteractionType.TRADE,
        accepted=True,
        observables=Observables(task_progress_delta=0.3, rework_count=2),
        v_hat=0.25,
        p=0.62,
        tau=1.5,
        c_a=0.1,
        ground_truth=-1,
        epoch=3,
        step=4,
    )
    assert SoftInteraction.model_validate_json(i.model_dump_json()) == i


@pytest.mark.parametrize(
    ("p", "threshold", "high"),
    [(0.5, 0.5, True), (0.4999, 0.5, False), (0.9, 0.5, True), (0.7, 0.8, False), (0.0, 0.0, True)],
)
def test_high_quality_means_p_at_or_above_threshold(p: float, threshold: float, high: bool) -> None:
    assert make(p=p).is_high_quality(threshold) is high


@pytest.mark.parametrize(
    ("p", "band", "uncertain"),
    [
        (0.5, 0.2, True),
        (0.31, 0.2, True),
        (0.69, 0.2, True),
        (0.3, 0.2, False),
        (0.7, 0.2, False),
        (0.5, 0.0, False),
        (0.95, 0.5, True),
    ],
)
def test_uncertain_band_is_strict_on_both_sides(p: float, band: float, uncertain: bool) -> None:
    assert make(p=p).is_uncertain(band) is uncertain
