"""The kernel: world components, the ledger, agents as actors, and the clock that drives a run."""
