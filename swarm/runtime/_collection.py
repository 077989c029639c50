"""The garbage collector's thresholds while a run is built and run, in the run's process and in its
shard workers alike.

A run's long-lived objects are its world, built once and then only growing, so full collections
are held back (the oldest generation's threshold: at 20,000 agents the full collections a run's
set-up triggered cost about a sixth of the run). The youngest generation is collected after ten
allocations per agent, at least 10,000 (the interpreter's default is 700): a step holds two or
three new tracked objects per agent-turn until it ends, and a collection in between walks them and
what they hold (the snapshot's records and index, the replies), so at a fixed threshold a step's
collections grew in number and in size with the population (at 100,000 agents about 20 a step, a
sixth of its time).
"""

from __future__ import annotations

YOUNG_AT_LEAST = 10_000
YOUNG_PER_AGENT = 10
OLD_HELD = 1_000_000


def held_thresholds(agents: int, now: tuple[int, int, int]) -> tuple[int, int, int]:
    """The thresholds for a run of ``agents`` agents, from the collector's ``now``: none lowered."""
    young, middle, old = now
    return max(young, YOUNG_AT_LEAST, YOUNG_PER_AGENT * agents), middle, max(old, OLD_HELD)
