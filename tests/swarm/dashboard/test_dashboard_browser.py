"""The live dashboard in a real browser: headless Chromium (Debian's ``chromium``) driven by playwright.

A run (the baseline with a tax and audits) started with ``swarm run --dashboard --paused``
is stepped, resumed, paused, resumed and stopped from the page's buttons; the epoch
counter and the toxicity chart must advance, and the numbers on the page must equal
those in ``metrics.csv`` and ``summary.json``. Without /usr/bin/chromium the test fails
(``apt-get install chromium``); ``SWARM_SKIP_BROWSER=1`` skips it on purpose.
``SWARM_DASHBOARD_SCREENSHOT=PATH`` saves a screenshot of the page there.
"""

from __future__ import annotations

import csv
import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CHROMIUM = Path(os.environ.get("SWARM_CHROMIUM", "/usr/bin/chromium"))
PLOTTED = ("toxicity_rate", "quality_gap", "conditional_loss_initiator", "acceptance_rate", "total_welfare")


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("SWARM_SKIP_BROWSER") == "1":
            pytest.skip("SWARM_SKIP_BROWSER=1: the browser test is skipped on purpose")
        pytest.fail(
            f"{CHROMIUM} not found: the dashboard's browser test needs Chromium "
            "(apt-get install chromium; or SWARM_CHROMIUM=PATH, or SWARM_SKIP_BROWSER=1 to skip it)"
        )
    return CHROMIUM


@pytest.fixture
def live_run(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    """``swarm run --dashboard --paused`` in a subprocess (long enough to watch); its URL."""
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "swarm.cli", "run", "baseline"),
            *("--epochs", "5000", "--out", str(out), "--no-progress"),
            *("--set", "governance.audit_enabled=true", "--set", "governance.audit_probability=0.3"),
            *("--set", "governance.transaction_tax_rate=0.05"),
            *("--dashboard", "--port", "0", "--paused"),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    stderr = proc.stderr
    threading.Thread(target=lambda: [lines.put(line) for line in stderr], daemon=True).start()
    try:
        seen = []
        while True:
            line = lines.get(timeout=60)
            seen.append(line)
            found = re.search(r"dashboard: (http://\S+)", line)
            if found:
                break
            assert proc.poll() is None, "".join(seen)
        yield found.group(1), proc, out
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def epoch_shown(page: Any) -> int:
    return int(page.inner_text("#epoch"))


def paused_at_epoch_end(page: Any, log: Path) -> int:
    """The epochs shown once the page has caught up with a log that ends with an epoch's end.

    A running clock writes ~100 epochs a second, far ahead of a page that polls; only a
    paused one lets the page show exactly the epochs in the log.
    """
    for _ in range(300):
        shown = epoch_shown(page)
        try:
            last = json.loads(log.read_text().splitlines()[-1])
        except ValueError:  # a line being written
            last = {}
        if (last.get("epoch"), last.get("step")) == (shown - 1, 10):
            return shown
        page.wait_for_timeout(100)
    raise AssertionError(f"the page shows {shown} epochs, the log ends at {last}")


def test_the_dashboard_shows_the_run_live_and_controls_it(
    chromium: Path, live_run: tuple[str, subprocess.Popen[str], Path]
) -> None:
    from playwright.sync_api import sync_playwright

    url, proc, out = live_run
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.wait_for_function("document.getElementById('status').textContent === 'paused'")
        assert page.inner_text("#title") == "baseline" and page.inner_text("#n-epochs") == "5000"
        assert epoch_shown(page) == 0

        page.click("#btn-step")  # one epoch, then paused again
        page.wait_for_function("document.getElementById('epoch').textContent === '1'")
        assert page.inner_text("#status") == "paused"

        page.click("#btn-resume")
        page.wait_for_function(
            "Number(document.getElementById('epoch').textContent) >= 5"
            " && Number(document.getElementById('svg-toxicity_rate').dataset.points) >= 4"
        )
        page.click("#btn-pause")
        page.click("#btn-step")  # to the end of the epoch under way: the page and the log agree
        page.wait_for_function("document.getElementById('status').textContent === 'paused'")
        held = paused_at_epoch_end(page, out / "events.jsonl")
        points_paused = int(page.get_attribute("#svg-toxicity_rate", "data-points") or 0)

        page.click("#btn-resume")
        page.wait_for_function("n => Number(document.getElementById('epoch').textContent) > n + 3", arg=held)
        assert int(page.get_attribute("#svg-toxicity_rate", "data-points") or 0) > points_paused

        page.click("#btn-stop")
        page.wait_for_function("document.getElementById('status').textContent === 'ended: stopped'")
        assert proc.wait(timeout=60) in (0, 1)  # 1: the scenario's criteria want all its epochs

        with (out / "metrics.csv").open() as fh:
            rows = list(csv.DictReader(fh))
        assert epoch_shown(page) == len(rows) > held + 3
        for name in PLOTTED:
            values = [float(r[name]) for r in rows if r[name] != ""]
            assert page.inner_text(f"#value-{name}") == f"{values[-1]:.4f}"
            drawn = page.eval_on_selector_all(
                f"#svg-{name} circle", "cs => cs.map(c => [Number(c.dataset.epoch), Number(c.dataset.value)])"
            )
            expected_points = [[int(r["epoch"]), float(r[name])] for r in rows if r[name] != ""]
            assert drawn == expected_points[-500:]  # the page marks at most the last 500 epochs

        summary = json.loads((out / "summary.json").read_text())
        assert summary["reason"] == "stopped"
        table = page.eval_on_selector_all(
            "#agents tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
        )
        expected = {
            a["agent_id"]: [
                a["agent_id"],
                a["agent_type"],
                f"{a['reputation']:.4f}",
                f"{a['resources']:.4f}",
                str(a["interactions_initiated"] + a["interactions_received"]),
                "yes" if a["frozen"] else "",
            ]
            for a in summary["agents"]
        }
        assert sorted(table) == sorted(expected.values())
        page.click("#agents th[data-key=resources]")  # sortable
        shown = [
            float(c)
            for c in page.eval_on_selector_all(
                "#agents tbody tr td:nth-child(4)", "cs => cs.map(c => c.textContent)"
            )
        ]
        assert shown == sorted(shown)
        assert page.eval_on_selector_all("#network circle", "cs => cs.length") >= len(expected)
        assert "run_ended" in page.inner_text("#events")  # the recent-events feed, newest first
        assert "governance_cost" in page.inner_text("#governance")  # the tax and the audits as they fire
        screenshot = os.environ.get("SWARM_DASHBOARD_SCREENSHOT")
        if screenshot:
            page.screenshot(path=screenshot, full_page=True)
        browser.close()


def test_a_sweep_and_its_runs_render_in_the_browser_without_errors(chromium: Path, tmp_path: Path) -> None:
    """``swarm dashboard SWEEP``: lever comparison with CIs, and each run read back from its log."""
    from playwright.sync_api import sync_playwright

    out = tmp_path / "sweep"
    swept = subprocess.run(
        [
            *(sys.executable, "-m", "swarm.cli", "sweep", "baseline", "--vary", "payoff.theta=0.3,0.7"),
            *("--seeds", "2", "--workers", "1", "--out", str(out)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert swept.returncode == 0, swept.stderr[-2000:]
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarm.cli", "dashboard", str(out), "--port", "0"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = re.search(r"dashboard: (http://\S+)", proc.stderr.readline())
        assert url is not None
        errors: list[str] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
            page = browser.new_page()
            page.set_default_timeout(60_000)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url.group(1))
            page.wait_for_selector("#sweep-runs li")
            assert page.is_hidden("#controls") and page.is_hidden("#run")
            aggregate = list(csv.DictReader((out / "aggregate.csv").read_text().splitlines()))
            means = page.eval_on_selector_all(
                "#lever-avg_toxicity circle.mean", "cs => cs.map(c => Number(c.dataset.mean))"
            )
            assert means == [float(r["mean"]) for r in aggregate if r["metric"] == "avg_toxicity"]
            assert len(page.query_selector_all("#sweep-runs li")) == 4
            page.click("#sweep-runs li a")
            page.wait_for_function("document.getElementById('status').textContent === 'ended: completed'")
            assert page.is_hidden("#controls") and page.inner_text("#epoch") == "10"
            browser.close()
        assert errors == []
    finally:
        proc.terminate()
        proc.wait(timeout=30)
