"""The red team: attacks planted as real populations, run against a scenario's governance and measured.

:mod:`swarm.redteam.attacks` holds the eight attacks; :mod:`swarm.redteam.evaluate`
runs them (governance on and off, paired seeds) and computes the report's figures
from the runs' events. The command is ``swarm redteam``.
"""
