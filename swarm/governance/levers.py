"""Imports the built-in levers so they register. The engine order comes from each lever's
``order``: reputation decay (10) → staking (20) → transaction tax (30) → random
audits (40) → moderator (50) → circuit breaker (60) → transparency ledger (70) →
collusion detection (80) → sybil detection (85); vote normalisation and the bandwidth cap act in the
feed and the ledger and have no hooks, nor have the market halt (65), the economy tax (66) and
mission audits (67), which the economies apply.
"""

from __future__ import annotations

from swarm.governance import (  # noqa: F401
    audit,
    circuit_breaker,
    collusion,
    economy_tax,
    market_halt,
    mission_audit,
    moderator,
    rails,
    reputation,
    staking,
    sybil,
    tax,
    transparency,
)
