"""From conduct to observables: what the world can see of how an interaction was carried out.

The proxy never sees conduct, only these noisy signals; the latent outcome
(``ground_truth``) is drawn from the *real* effort, so a facade raises the visible
signals without raising the true quality, and calibration metrics can tell.
"""

from __future__ import annotations

import random
from typing import Literal

from swarm.actions import Conduct
from swarm.core.interaction import Observables

PROGRESS_NOISE = 0.25
ENGAGEMENT_NOISE = 0.2
MAX_REWORK = 3
MAX_REJECTIONS = 2
MAX_MISUSE = 1
COUNTERPARTY_WEIGHT = 0.2


def _clamp(x: float, lo: float = -1.0, hi: float = 1.0) -> float:
    return lo if x < lo else hi if x > hi else x


def _binomial(rng: random.Random, n: int, q: float) -> int:
    draw, k = rng.random, 0  # n draws, in order (a loop: cheaper than a generator per interaction)
    for _ in range(n):
        if draw() < q:
            k += 1
    return k


def generate_observables(
    rng: random.Random,
    initiator: Conduct,
    counterparty: Conduct | None,
    accepted: bool,
) -> Observables:
    """Draw the five observables of one interaction from the parties' conduct.

    task progress ~ U(e + f − 0.25, e + f + 0.25) with e = effort, f = facade;
    rework ~ Bin(3, sloppiness); verifier rejections ~ Bin(2, defects);
    misuse flags ~ Bin(1, misuse); engagement ~ U(g − 0.2, g + 0.2) where
    g = 0.8·initiator + 0.2·counterparty engagement (the initiator's alone if
    there is no answer), clipped to ≤ 0 when the counterparty declined.
    """
    # rng.uniform(lo, hi) (lo + (hi − lo)·random()) and _clamp(), inline: every interaction
    lo, hi = -PROGRESS_NOISE, PROGRESS_NOISE
    progress = initiator.effort + initiator.facade + (lo + (hi - lo) * rng.random())
    progress = -1.0 if progress < -1.0 else 1.0 if progress > 1.0 else progress
    rework = _binomial(rng, MAX_REWORK, initiator.sloppiness)
    rejections = _binomial(rng, MAX_REJECTIONS, initiator.defects)
    misuse = _binomial(rng, MAX_MISUSE, initiator.misuse)
    tone = initiator.engagement
    if counterparty is not None:
        tone = (1 - COUNTERPARTY_WEIGHT) * tone + COUNTERPARTY_WEIGHT * counterparty.engagement
    lo, hi = -ENGAGEMENT_NOISE, ENGAGEMENT_NOISE
    engagement = tone + (lo + (hi - lo) * rng.random())
    engagement = -1.0 if engagement < -1.0 else 1.0 if engagement > 1.0 else engagement
    if not accepted:
        engagement = min(engagement, 0.0)
    return Observables(
        task_progress_delta=progress,
        rework_count=rework,
        verifier_rejections=rejections,
        tool_misuse_flags=misuse,
        counterparty_engagement_delta=engagement,
    )


def true_quality(conduct: Conduct) -> float:
    """Probability that the interaction is truly beneficial (v = +1), from real conduct only.

    q = clamp(0.5 + 0.5·effort − 0.15·sloppiness − 0.2·defects − 0.2·misuse, 0.02, 0.98)
    """
    q = 0.5 + 0.5 * conduct.effort - 0.15 * conduct.sloppiness - 0.2 * conduct.defects
    q -= 0.2 * conduct.misuse
    return _clamp(q, 0.02, 0.98)


def draw_ground_truth(rng: random.Random, conduct: Conduct) -> Literal[-1, 1]:
    """The latent outcome v ∈ {−1, +1} of an interaction carried out with ``conduct``."""
    return 1 if rng.random() < true_quality(conduct) else -1
