"""The soft-label math: interactions, the proxy, the calibrated sigmoid and payoffs."""

from swarm.core.interaction import InteractionType, Observables, SoftInteraction
from swarm.core.payoff import PayoffBreakdown, PayoffConfig, SoftPayoffEngine
from swarm.core.proxy import ProxyComputer, ProxyWeights
from swarm.core.sigmoid import (
    calibrated_sigmoid,
    effective_uncertainty_band,
    inverse_sigmoid,
    sigmoid_bounds,
    sigmoid_derivative,
)

__all__ = [
    "InteractionType",
    "Observables",
    "PayoffBreakdown",
    "PayoffConfig",
    "ProxyComputer",
    "ProxyWeights",
    "SoftInteraction",
    "SoftPayoffEngine",
    "calibrated_sigmoid",
    "effective_uncertainty_band",
    "inverse_sigmoid",
    "sigmoid_bounds",
    "sigmoid_derivative",
]
