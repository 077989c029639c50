"""Information laundering: a client pays a high-trust proxy that passes its harm on (planted), and the
security analyzer's laundering signal (``security_laundering_trust_gap``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import run
from swarm.analysis.security_detector import laundering_population, score_security_run
from swarm.core.interaction import SoftInteraction
from swarm.governance.effects import Evidence
from swarm.governance.security import SecurityAnalyzer, SecurityConfig
from swarm.runtime.eventlog import read_log

STEPS = 10


def _i(a: str, b: str, p: float, clock: int, tau: float = 0.0) -> SoftInteraction:
    return SoftInteraction(
        interaction_id=f"{a}-{b}-{clock}",
        initiator=a,
        counterparty=b,
        accepted=True,
        p=p,
        tau=tau,
        step=clock,
    )


def _analyzer(gap: float = 0.3) -> SecurityAnalyzer:
    return SecurityAnalyzer(SecurityConfig(security_enabled=True, security_laundering_trust_gap=gap), STEPS)


def _chain(a: SecurityAnalyzer, client_p: float, relay_p: float, own_p: float) -> None:
    """client pays proxy for poor work; proxy then deals with outsiders (relays) and on its own."""
    for k in range(4):
        t = 3 * k
        a.interactions(t, [_i("client", "proxy", client_p, t, tau=1.0)])
        a.interactions(t + 1, [_i("proxy", f"outsider{k}", relay_p, t + 1)])
    a.interactions(30, [_i("proxy", "outsider9", own_p, 30), _i("proxy", "outsider8", own_p, 31)])


def test_a_paid_proxy_that_passes_harm_on_is_flagged_with_its_client() -> None:
    a = _analyzer()
    _chain(a, client_p=0.2, relay_p=0.2, own_p=0.8)
    found = a.laundering(31)
    assert {i.agent for i in found} == {"client", "proxy"}
    assert all(i.kind == "laundering" and 0 < i.risk <= 1 for i in found)


def test_honest_pairs_and_unpaid_trust_gaps_are_not_laundering() -> None:
    a = _analyzer()
    _chain(a, client_p=0.7, relay_p=0.8, own_p=0.8)  # a payer as good as its payee, good work after
    assert a.laundering(31) == []
    b = _analyzer()
    for t in range(8):  # the reference's failure: a low-p agent dealing (unpaid) with a high-p one
        b.interactions(t, [_i("weak", "strong", 0.2, t), _i("strong", f"x{t}", 0.9, t)])
    assert b.laundering(9) == []
    c = _analyzer()
    _chain(c, client_p=0.2, relay_p=0.8, own_p=0.8)  # paid, but the proxy's later work is good
    assert c.laundering(31) == []


@settings(max_examples=30, deadline=None)
@given(gap=st.floats(0.0, 1.0), client_p=st.floats(0.0, 1.0), own_p=st.floats(0.0, 1.0))
def test_no_laundering_without_a_trust_gap_larger_than_the_key(
    gap: float, client_p: float, own_p: float
) -> None:
    if abs(own_p - client_p - gap) < 1e-9:
        return  # on the boundary, means of equal floats may round either way
    a = _analyzer(gap)
    _chain(a, client_p=client_p, relay_p=0.1, own_p=own_p)
    found = a.laundering(31)
    if own_p - client_p <= gap:
        assert found == []
    else:
        assert {i.agent for i in found} == {"client", "proxy"}


def test_in_a_run_the_signal_flags_the_planted_chain_and_no_honest_agent() -> None:
    flagged_chain = 0
    for seed in (1, 2):
        scenario = laundering_population(seed=seed, scale=2, epochs=6)
        with tempfile.TemporaryDirectory() as tmp:
            run(scenario, out_dir=Path(tmp))
            _, events = read_log(Path(tmp) / "events.jsonl")
        flagged = {
            e.agent_id
            for e in events
            if isinstance(e, Evidence) and e.lever == "security" and e.finding == "threat"
        }
        assert not {a for a in flagged if a.startswith("honest")}
        flagged_chain += len(flagged & {"client1_1", "proxy1_1"})
        score = score_security_run(scenario, events)
        assert score.fpr_honest == 0.0
    assert flagged_chain >= 3
