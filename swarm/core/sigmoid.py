"""The calibrated sigmoid that turns a proxy score v̂ into a probability p, and its inverse."""

from __future__ import annotations

import math

V_CLAMP = 10.0
_EXP_LIMIT = 700.0


def calibrated_sigmoid(v_hat: float, k: float = 2.0) -> float:
    """p = 1 / (1 + exp(−k·v)) with v = clamp(v̂, −10, 10); k = 0 gives 0.5.

    Evaluated without overflow for any k: very negative k·v uses exp(k·v) / (1 + exp(k·v)).
    """
    v = min(max(v_hat, -V_CLAMP), V_CLAMP)
    z = k * v if v else 0.0
    if z < -_EXP_LIMIT:
        e = math.exp(z)
        return e / (1.0 + e)
    return 1.0 / (1.0 + math.exp(-z))


def inverse_sigmoid(p: float, k: float = 2.0) -> float:
    """v = −ln((1 − p) / p) / k, the score whose calibrated sigmoid is p (for unclamped v)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if k == 0:
        raise ValueError("k must be non-zero: with k = 0 every score maps to p = 0.5")
    return (math.log(p) - math.log1p(-p)) / k


def sigmoid_derivative(v_hat: float, k: float = 2.0) -> float:
    """dp/dv̂ = k·p·(1 − p) with p = calibrated_sigmoid(v̂, k)."""
    p = calibrated_sigmoid(v_hat, k)
    return k * p * (1.0 - p)


def sigmoid_bounds(k: float = 2.0) -> tuple[float, float]:
    """(σ_k(−1), σ_k(+1)): the range of p reachable from v̂ ∈ [−1, 1]."""
    return calibrated_sigmoid(-1.0, k), calibrated_sigmoid(1.0, k)


def effective_uncertainty_band(k: float = 2.0, threshold: float = 0.1) -> tuple[float, float]:
    """The scores (σ_k⁻¹(0.5 − t), σ_k⁻¹(0.5 + t)) between which p is within t of 0.5."""
    if not 0.0 <= threshold < 0.5:
        raise ValueError(f"threshold must be in [0, 0.5), got {threshold}")
    return inverse_sigmoid(0.5 - threshold, k), inverse_sigmoid(0.5 + threshold, k)
