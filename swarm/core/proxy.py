"""The proxy: from observable signals to a score v̂ ∈ [−1, 1] and a probability p."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from swarm.core.interaction import Observables
from swarm.core.sigmoid import calibrated_sigmoid


class ProxyWeights(BaseModel):
    """How much each signal counts in v̂ (signs allowed; normalised before use)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_progress: float = 0.4
    rework_penalty: float = 0.2
    verifier_penalty: float = 0.2
    engagement_signal: float = 0.2

    def normalized(self) -> ProxyWeights:
        """Each weight divided by Σ|w| (signs kept); all 0.25 when every weight is zero."""
        total = (
            abs(self.task_progress)
            + abs(self.rework_penalty)
            + abs(self.verifier_penalty)
            + abs(self.engagement_signal)
        )
        if total == 0:
            return ProxyWeights(
                task_progress=0.25,
                rework_penalty=0.25,
                verifier_penalty=0.25,
                engagement_signal=0.25,
            )
        return ProxyWeights(
            task_progress=self.task_progress / total,
            rework_penalty=self.rework_penalty / total,
            verifier_penalty=self.verifier_penalty / total,
            engagement_signal=self.engagement_signal / total,
        )


def _clamp(x: float) -> float:
    return -1.0 if x < -1.0 else 1.0 if x > 1.0 else x  # min(max(x, -1), 1), NaN included


def decay_signal(count: int, decay: float) -> float:
    """2·decayⁿ − 1: +1 for a clean record (n = 0), falling towards −1 as the count grows."""
    return 2.0 * decay**count - 1.0


class ProxyComputer:
    """Scores observables: v̂ = w_tp·progress + w_rw·rework + w_vp·verifier + w_eng·engagement.

    progress and engagement are the clamped deltas; rework, rejection and misuse are
    decay signals of their counts; verifier = (rejection + misuse) / 2; v̂ is clamped
    to [−1, 1] and p = σ_k(v̂) with k = ``sigmoid_k``.
    """

    def __init__(
        self,
        weights: ProxyWeights | None = None,
        sigmoid_k: float = 2.0,
        rework_decay: float = 0.3,
        rejection_decay: float = 0.4,
        misuse_decay: float = 0.5,
    ) -> None:
        for name, decay in (
            ("rework_decay", rework_decay),
            ("rejection_decay", rejection_decay),
            ("misuse_decay", misuse_decay),
        ):
            if not 0.0 <= decay <= 1.0:
                raise ValueError(f"{name} must be in [0, 1] (a decay per event), got {decay}")
        self.weights = (weights or ProxyWeights()).normalized()
        self.sigmoid_k = sigmoid_k
        self.rework_decay = rework_decay
        self.rejection_decay = rejection_decay
        self.misuse_decay = misuse_decay

    @property
    def weights(self) -> ProxyWeights:
        """The signals' weights (normalised); setting them sets what :meth:`compute_v_hat` reads."""
        return self._weights

    @weights.setter
    def weights(self, weights: ProxyWeights) -> None:
        self._weights = weights
        self._w = (
            weights.task_progress,
            weights.rework_penalty,
            weights.verifier_penalty,
            weights.engagement_signal,
        )
        """The weights as plain floats (read on every interaction; a pydantic model's reads are slower)."""

    def compute_v_hat(self, obs: Observables) -> float:
        """The proxy score v̂ ∈ [−1, 1] of one interaction's observables."""
        w_progress, w_rework, w_verifier, w_engagement = self._w
        x = obs.task_progress_delta  # the clamps and decay signals inline: once per interaction
        progress = -1.0 if x < -1.0 else 1.0 if x > 1.0 else x
        rework = 2.0 * self.rework_decay**obs.rework_count - 1.0
        rejection = 2.0 * self.rejection_decay**obs.verifier_rejections - 1.0
        misuse = 2.0 * self.misuse_decay**obs.tool_misuse_flags - 1.0
        x = obs.counterparty_engagement_delta
        engagement = -1.0 if x < -1.0 else 1.0 if x > 1.0 else x
        verifier = (rejection + misuse) / 2.0
        v_hat = w_progress * progress + w_rework * rework + w_verifier * verifier + w_engagement * engagement
        return -1.0 if v_hat < -1.0 else 1.0 if v_hat > 1.0 else v_hat

    def compute_p(self, v_hat: float) -> float:
        """p = σ_k(v̂), the probability that the interaction is beneficial."""
        return calibrated_sigmoid(v_hat, self.sigmoid_k)

    def compute_labels(self, obs: Observables) -> tuple[float, float]:
        """(v̂, p) for one interaction's observables."""
        v_hat = self.compute_v_hat(obs)
        return v_hat, self.compute_p(v_hat)
