from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core import InteractionType, Observables, SoftInteraction
from swarm.events import InteractionCompleted, decoder

FAST = settings(max_examples=60, deadline=None)

IDS = {"interaction_id": "i1", "initiator": "a", "counterparty": "b"}


def make(**fields: Any) -> SoftInteraction:
    return SoftInteraction(**IDS, **fields)


def decode(data: dict[str, Any]) -> SoftInteraction:
    return msgspec.convert(data, SoftInteraction)


finite = st.floats(-1e6, 1e6)
valid_interactions = st.builds(
    SoftInteraction,
    interaction_id=st.text(max_size=8),
    initiator=st.text(max_size=8),
    counterparty=st.text(max_size=8),
    interaction_type=st.sampled_from(InteractionType),
    accepted=st.booleans(),
    observables=st.builds(
        Observables,
        task_progress_delta=finite,
        rework_count=st.integers(0, 100),
        verifier_rejections=st.integers(0, 100),
        tool_misuse_flags=st.integers(0, 100),
        counterparty_engagement_delta=finite,
    ),
    v_hat=st.floats(-1.0, 1.0),
    p=st.floats(0.0, 1.0),
    tau=finite,
    c_a=finite,
    c_b=finite,
    r_a=finite,
    r_b=finite,
    ground_truth=st.sampled_from([None, -1, 1]),
    epoch=st.integers(0, 10_000),
    step=st.integers(0, 10_000),
)


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
    assert decode({**IDS, "interaction_type": value}).interaction_type is member


@pytest.mark.parametrize("field", ["rework_count", "verifier_rejections", "tool_misuse_flags"])
def test_negative_counts_are_rejected_on_decode_with_their_path(field: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=rf"at `\$\.{field}`"):
        msgspec.convert({field: -1}, Observables)
    with pytest.raises(msgspec.ValidationError, match=rf"at `\$\.observables\.{field}`"):
        decode({**IDS, "observables": {field: -1}})


@pytest.mark.parametrize(
    "fields",
    [
        {"p": -0.01},
        {"p": 1.01},
        {"p": float("nan")},
        {"p": float("inf")},
        {"v_hat": -1.5},
        {"v_hat": 1.5},
        {"ground_truth": 0},
        {"interaction_type": "gossip"},
        {"epoch": -1},
        {"step": -1},
        {"accepted": 1},
        {"p": "0.5"},
        {"timestamp": "2024-01-01T00:00:00"},
    ],
    ids=lambda f: "-".join(f"{k}={v}" for k, v in f.items()),
)
def test_invalid_interaction_fields_are_rejected_on_decode(fields: dict[str, Any]) -> None:
    data = {**IDS, **fields}
    with pytest.raises(msgspec.ValidationError):
        decode(data)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(data), type=SoftInteraction)


@pytest.mark.parametrize(
    "fields",
    [{"p": 1.5}, {"v_hat": -3.0}, {"epoch": -2}, {"observables": Observables(rework_count=-1)}],
    ids=["p", "v_hat", "epoch", "rework_count"],
)
def test_out_of_range_values_are_built_freely_but_rejected_when_read_back(fields: dict[str, Any]) -> None:
    i = make(**fields)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(i), type=SoftInteraction)


def test_the_event_log_decoder_rejects_an_interaction_out_of_range() -> None:
    event = InteractionCompleted(
        interaction=make(p=0.7, accepted=True),
        payoff_initiator=0.4,
        payoff_counterparty=0.4,
        initiator_type="honest",
        counterparty_type="honest",
    )
    line = msgspec.json.encode(event)
    assert decoder().decode(line) == event
    bad = line.replace(b'"p":0.7', b'"p":1.7')
    assert bad != line
    with pytest.raises(msgspec.ValidationError, match=r"\$\.interaction\.p"):
        decoder().decode(bad)


def test_interactions_and_observables_are_immutable() -> None:
    i = make()
    with pytest.raises(AttributeError):
        i.p = 0.9  # type: ignore[misc]
    with pytest.raises(AttributeError):
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
    assert msgspec.json.decode(msgspec.json.encode(i), type=SoftInteraction) == i


@FAST
@given(valid_interactions)
def test_every_valid_interaction_round_trips_through_json_and_builtins(i: SoftInteraction) -> None:
    assert msgspec.json.decode(msgspec.json.encode(i), type=SoftInteraction) == i
    assert msgspec.convert(msgspec.to_builtins(i), SoftInteraction) == i


@FAST
@given(valid_interactions, st.floats(-5.0, 5.0), st.floats(-5.0, 5.0))
def test_with_costs_adds_to_the_costs_and_changes_nothing_else(
    i: SoftInteraction, c_a: float, c_b: float
) -> None:
    charged = i.with_costs(c_a, c_b)
    assert (charged.c_a, charged.c_b) == (i.c_a + c_a, i.c_b + c_b)
    assert msgspec.structs.replace(charged, c_a=i.c_a, c_b=i.c_b) == i


def test_replace_gives_a_new_interaction_and_leaves_the_original() -> None:
    i = make(p=0.3)
    j = msgspec.structs.replace(i, p=0.8, accepted=True)
    assert (i.p, i.accepted) == (0.3, False)
    assert (j.p, j.accepted) == (0.8, True)
    assert msgspec.structs.replace(j, p=0.3, accepted=False) == i


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
