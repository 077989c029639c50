"""The report of one run: PNG plots and one self-contained HTML page.

Everything comes from the run's files through :func:`swarm.analysis.history.load_run`
(the event log, which ``metrics.csv`` and ``agent_epochs.csv`` equal), so any run
that has a log can be reported on, including one that was interrupted or failed.
Needs the ``analysis`` extra (pandas, matplotlib, networkx). Layout: docs/report.md.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swarm.analysis.history import RunHistory, load_run
from swarm.errors import LogError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

PLOTS = ("time_series", "agents", "network", "quality", "governance")
"""The plots of a run report, each written as ``<name>.png``."""

MAX_AGENT_LINES = 30
"""Above this many agents, trajectories are drawn per type (median and 10–90 % band), not per agent."""
MAX_NETWORK_NODES = 200
"""The network shows at most this many agents: the ones in the most accepted interactions."""
MAX_ARROWS = 400
"""Above this many pairs, the network's edges are lines without arrows."""
MAX_TABLE_ROWS = 50

_DPI = 100
_GOVERNANCE_TYPES = ("agent_frozen", "agent_unfrozen", "kill_switch_triggered")


def report_run(run_dir: str | Path, out: str | Path | None = None) -> list[Path]:
    """Write the run's plots (``<name>.png`` for each of :data:`PLOTS`) and ``report.html`` into ``out``.

    ``out`` defaults to ``report/`` inside the run folder. Returns the files written, the HTML page last.
    Raises :class:`~swarm.LogError` when ``run_dir`` holds no readable event log.
    """
    run = Path(run_dir)
    history = load_run(run)
    if history.events is None:
        raise LogError(f"{run}: an export folder has no event log: report on the run folder it came from")
    target = Path(out) if out is not None else (run if run.is_dir() else run.parent) / "report"
    target.mkdir(parents=True, exist_ok=True)
    steps = _steps_per_epoch(history)
    drawers = {
        "time_series": lambda: _time_series(history),
        "agents": lambda: _agents(history),
        "network": lambda: _network(history),
        "quality": lambda: _quality(history),
        "governance": lambda: _governance(history, steps),
    }
    written: list[Path] = []
    for name in PLOTS:
        fig = drawers[name]()
        path = target / f"{name}.png"
        fig.savefig(path, dpi=_DPI, metadata={"Software": None})
        written.append(path)
    page = target / "report.html"
    page.write_text(_html(run, history, written), encoding="utf-8")
    written.append(page)
    return written


# ----------------------------------------------------------------------------- plots


def _figure(rows: int, cols: int, width: float, height: float) -> tuple[Figure, list[Any]]:
    from matplotlib.figure import Figure

    # A bare Figure (no pyplot): nothing global changes, and PNGs are drawn by Agg whatever the backend.
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, list(axes.flat)


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def plotted_metrics() -> list[tuple[str, str]]:
    """The epoch metrics registered with ``plot=True``: (name, description)."""
    from swarm.metrics.registry import EPOCH_METRICS
    from swarm.registry import load_builtins

    load_builtins()
    return [(name, m.description) for name, m in EPOCH_METRICS.items() if m.plot]


def _time_series(h: RunHistory) -> Figure:
    shown = plotted_metrics()
    cols = 3
    fig, axes = _figure(-(-len(shown) // cols), cols, 15, 3.6 * -(-len(shown) // cols))
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    epochs = h.epochs
    for ax, (name, description) in zip(axes, shown, strict=False):
        ax.set_title(f"{name}\n{_clip(description, 60)}", fontsize=9)
        if name not in epochs.columns or epochs[name].isna().all():
            _empty(ax, "no value in any epoch")
            continue
        ax.plot(epochs["epoch"], epochs[name].astype(float), marker="o", markersize=3, color="#4c72b0")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    return fig


def _type_colours(types: list[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    return {t: palette(k % 10) for k, t in enumerate(sorted(set(types)))}


def _agents(h: RunHistory) -> Figure:
    from matplotlib.lines import Line2D

    figures = (
        ("reputation", "reputation"),
        ("resources", "resources"),
        ("total_payoff", "payoff (cumulative)"),
    )
    fig, axes = _figure(1, 3, 15, 4.2)
    frame = h.agents
    if frame.empty:
        for ax, (_, title) in zip(axes, figures, strict=True):
            ax.set_title(title)
            _empty(ax, "no epoch closed")
        return fig
    types = frame.groupby("agent_id", sort=False)["agent_type"].first()
    colours = _type_colours(list(types))
    per_agent = len(types) <= MAX_AGENT_LINES
    for ax, (column, title) in zip(axes, figures, strict=True):
        if per_agent:
            for agent_id, rows in frame.groupby("agent_id", sort=False):
                ax.plot(rows["epoch"], rows[column], color=colours[types[agent_id]], alpha=0.8, lw=1.2)
            ax.set_title(f"{title} per agent")
        else:
            for kind, rows in frame.groupby("agent_type", sort=True):
                by_epoch = rows.groupby("epoch")[column]
                median = by_epoch.median()
                ax.plot(median.index, median.values, color=colours[kind], lw=1.6)
                ax.fill_between(
                    median.index,
                    by_epoch.quantile(0.1).values,
                    by_epoch.quantile(0.9).values,
                    color=colours[kind],
                    alpha=0.2,
                )
            ax.set_title(f"{title}: median and 10–90 % of each type")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], color=c, lw=2, label=t) for t, c in colours.items()]
    axes[0].legend(handles=handles, fontsize=8, loc="best")
    return fig


def _network(h: RunHistory) -> Figure:
    import networkx as nx
    from matplotlib import colormaps

    fig, axes = _figure(1, 1, 9, 8)
    ax = axes[0]
    ix = h.interactions
    accepted = ix[ix["accepted"].astype(bool)] if not ix.empty else ix
    if accepted.empty:
        ax.set_title("interaction network")
        _empty(ax, "no accepted interaction")
        return fig
    edges = (
        accepted.groupby(["initiator", "counterparty"], sort=True)["p"].agg(["count", "mean"]).reset_index()
    )
    graph = nx.DiGraph()
    for row in edges.itertuples(index=False):
        graph.add_edge(row.initiator, row.counterparty, weight=int(row.count), p=float(row.mean))
    activity = {n: graph.degree(n, weight="weight") for n in graph.nodes}
    title = "interaction network (accepted interactions)"
    if graph.number_of_nodes() > MAX_NETWORK_NODES:
        keep = sorted(activity, key=lambda n: (-activity[n], n))[:MAX_NETWORK_NODES]
        graph = graph.subgraph(keep).copy()
        title += f": the {MAX_NETWORK_NODES} most active agents"
    layout = nx.spring_layout(graph, seed=0, weight="weight")
    final = _final_agents(h)
    types = {a: final.get(a, {}).get("agent_type", "?") for a in graph.nodes}
    colours = _type_colours(list(types.values()))
    resources = [float(final.get(a, {}).get("resources", 0.0)) for a in graph.nodes]
    top = max([abs(r) for r in resources] + [1e-9])
    shrink = min(1.0, 30 / graph.number_of_nodes()) ** 0.5  # smaller nodes in a crowded graph
    sizes = [shrink * (120 + 600 * max(r, 0.0) / top) for r in resources]
    weights = [graph.edges[e]["weight"] for e in graph.edges]
    heaviest = max(weights) if weights else 1
    nx.draw_networkx_nodes(
        graph, layout, ax=ax, node_size=sizes, node_color=[colours[types[n]] for n in graph.nodes], alpha=0.9
    )
    arrows = graph.number_of_edges() <= MAX_ARROWS  # an arrow is a patch each: slow by the thousand
    nx.draw_networkx_edges(
        graph,
        layout,
        ax=ax,
        width=[(0.5 if arrows else 0.2) + 3.0 * w / heaviest for w in weights],
        edge_color=[graph.edges[e]["p"] for e in graph.edges],
        edge_cmap=colormaps["RdYlGn"],
        edge_vmin=0.0,
        edge_vmax=1.0,
        arrows=arrows,
        node_size=sizes,
        **({"arrowsize": 8, "connectionstyle": "arc3,rad=0.08"} if arrows else {"alpha": 0.5}),
    )
    if graph.number_of_nodes() <= 40:
        nx.draw_networkx_labels(graph, layout, ax=ax, font_size=7)
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    scale = ScalarMappable(cmap=colormaps["RdYlGn"], norm=Normalize(0.0, 1.0))
    fig.colorbar(scale, ax=ax, shrink=0.6, label="mean p of the pair's accepted interactions")
    from matplotlib.lines import Line2D

    ax.legend(
        handles=[Line2D([], [], marker="o", ls="", color=c, label=t) for t, c in colours.items()],
        fontsize=8,
        loc="best",
        title="node colour: type; size: resources",
        title_fontsize=7,
    )
    how = "arrow: initiator → counterparty" if arrows else f"over {MAX_ARROWS} pairs: lines without arrows"
    ax.set_title(f"{title}\nedge width: how many; {how}", fontsize=10)
    ax.set_axis_off()
    return fig


def _quality(h: RunHistory) -> Figure:
    fig, axes = _figure(1, 1, 9, 5)
    ax = axes[0]
    ix = h.interactions
    ax.set_title("quality (p) of accepted vs declined interactions")
    if ix.empty:
        _empty(ax, "no interaction was resolved")
        return fig
    accepted = ix["accepted"].astype(bool)
    bins = [k / 20 for k in range(21)]
    parts = ((ix.loc[accepted, "p"], "accepted", "#4c72b0"), (ix.loc[~accepted, "p"], "declined", "#dd8452"))
    for values, label, colour in parts:
        if values.empty:
            continue
        mean = float(values.mean())
        ax.hist(
            values, bins=bins, alpha=0.55, color=colour, label=f"{label} (n={len(values)}, mean p={mean:.3f})"
        )
        ax.axvline(mean, color=colour, ls="--", lw=1.2)
    if not parts[0][0].empty and not parts[1][0].empty:
        gap = float(parts[0][0].mean()) - float(parts[1][0].mean())
        verdict = "adverse selection" if gap < 0 else "no adverse selection"
        ax.set_title(f"quality (p) of accepted vs declined interactions: gap {gap:+.3f} ({verdict})")
    ax.set_xlim(0, 1)
    ax.set_xlabel("p (probability the interaction is beneficial)")
    ax.set_ylabel("interactions")
    ax.legend(fontsize=8)
    return fig


def governance_events(h: RunHistory) -> pd.DataFrame:
    """The lever actions of a run (every governance effect, freeze, unfreeze and kill switch), in log order.

    Columns: ``seq``, ``epoch``, ``step``, ``type``, ``lever`` (the lever, or ``ledger`` / ``kill switch``),
    ``agent_id``, ``reason``.
    """
    import pandas as pd

    columns = ["seq", "epoch", "step", "type", "lever", "agent_id", "reason"]
    ev = h.events
    if ev is None or ev.empty:
        return pd.DataFrame(columns=columns)
    is_lever = ev["lever"].notna() if "lever" in ev.columns else pd.Series(False, index=ev.index)
    chosen = ev[is_lever | ev["type"].isin(_GOVERNANCE_TYPES)].copy()
    for column in columns:
        if column not in chosen.columns:
            chosen[column] = None
    fallback = chosen["type"].map({"kill_switch_triggered": "kill switch"}).fillna("ledger")
    chosen["lever"] = chosen["lever"].where(chosen["lever"].notna(), fallback)
    return chosen[columns].reset_index(drop=True)


def _governance(h: RunHistory, steps: int) -> Figure:
    actions = governance_events(h)
    labels = sorted({f"{r.lever}: {r.type}" for r in actions.itertuples()})
    fig, axes = _figure(1, 1, 12, max(3.0, 1.2 + 0.35 * len(labels)))
    ax = axes[0]
    ax.set_title("governance timeline (each mark is one lever action)")
    if actions.empty:
        _empty(ax, "no lever acted in this run")
        return fig
    row = {label: k for k, label in enumerate(labels)}
    xs = actions["epoch"] + actions["step"] / max(steps, 1)
    ys = [row[f"{r.lever}: {r.type}"] for r in actions.itertuples()]
    ax.scatter(xs, ys, marker="|", s=120, color="#c44e52")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.set_xlabel("epoch (+ step / steps per epoch)")
    ax.grid(axis="x", alpha=0.3)
    return fig


# ------------------------------------------------------------------------------ page


def _html(run: Path, h: RunHistory, pngs: list[Path]) -> str:
    esc = html.escape
    scenario = h.scenario or {}
    title = f"Run report: {scenario.get('scenario_id', run.name)}"
    seed = (scenario.get("simulation") or {}).get("seed", "?")
    n_epochs = (scenario.get("simulation") or {}).get("n_epochs", "?")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1500px;margin:1em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;font-size:13px;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
        "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
        "img{max-width:100%;border:1px solid #eee}h2{margin-top:1.5em}</style>",
        "</head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>Folder <code>{esc(str(run))}</code>; seed {esc(str(seed))}; "
        f"{len(h.epochs)} of {esc(str(n_epochs))} epochs closed; ended: "
        f"<b>{esc(h.reason or 'no run_ended in the log (the run did not finish)')}</b>.</p>",
    ]
    parts += _summary_section(run)
    captions = {
        "time_series": "Per-epoch metrics",
        "agents": "Agent trajectories",
        "network": "Interaction network",
        "quality": "Quality of accepted vs declined interactions",
        "governance": "Governance timeline",
    }
    for png in pngs:
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        caption = captions.get(png.stem, png.stem)
        parts.append(f'<h2 id="{esc(png.stem)}">{esc(caption)}</h2>')
        parts.append(f'<img alt="{esc(caption)}" src="data:image/png;base64,{data}">')
        if png.stem == "governance":
            parts += _governance_table(h)
    parts += _agent_table(h)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _summary_section(run: Path) -> list[str]:
    from swarm.metrics.registry import RUN_FIGURES
    from swarm.registry import load_builtins

    load_builtins()
    path = (run if run.is_dir() else run.parent) / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8")).get("summary", {})
    except (OSError, ValueError, AttributeError):
        return ["<p>No readable summary.json beside the log (the run did not write its outputs).</p>"]
    rows = [
        f"<tr><td>{html.escape(name)}</td><td>{_cell(summary.get(name))}</td>"
        f"<td style='text-align:left'>{html.escape(fig.description)}</td></tr>"
        for name, fig in RUN_FIGURES.items()
        if fig.headline and isinstance(summary, dict)
    ]
    return [
        "<h2>Run figures</h2>",
        "<table><tr><th>figure</th><th>value</th><th>meaning</th></tr>",
        *rows,
        "</table>",
    ]


def _governance_table(h: RunHistory) -> list[str]:
    actions = governance_events(h)
    if actions.empty:
        return []
    counts = actions.groupby(["epoch", "lever", "type"]).size().reset_index(name="actions")
    rows = [
        f"<tr><td>{int(r.epoch)}</td><td>{html.escape(str(r.lever))}</td>"
        f"<td>{html.escape(str(r.type))}</td><td>{int(r.actions)}</td></tr>"
        for r in counts.itertuples()
    ]
    return ["<table><tr><th>epoch</th><th>lever</th><th>action</th><th>count</th></tr>", *rows, "</table>"]


def _agent_table(h: RunHistory) -> list[str]:
    final = _final_agents(h)
    if not final:
        return []
    ordered = sorted(final.values(), key=lambda r: (-float(r["resources"]), str(r["agent_id"])))
    columns = (
        "agent_id",
        "agent_type",
        "reputation",
        "resources",
        "total_payoff",
        "interactions_initiated",
        "interactions_received",
        "frozen",
    )
    note = "" if len(ordered) <= MAX_TABLE_ROWS else f" (the {MAX_TABLE_ROWS} richest of {len(ordered)})"
    rows = [
        "<tr>" + "".join(f"<td>{_cell(r[c])}</td>" for c in columns) + "</tr>"
        for r in ordered[:MAX_TABLE_ROWS]
    ]
    return [
        f"<h2>Agents at the last closed epoch{note}</h2>",
        "<table><tr>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr>",
        *rows,
        "</table>",
    ]


# ---------------------------------------------------------------------------- helpers


def _final_agents(h: RunHistory) -> dict[str, dict[str, Any]]:
    """Each agent's row at the last closed epoch."""
    frame = h.agents
    if frame.empty:
        return {}
    last = frame[frame["epoch"] == frame["epoch"].max()]
    return {str(r["agent_id"]): r for r in last.to_dict("records")}


def _steps_per_epoch(h: RunHistory) -> int:
    sim = (h.scenario or {}).get("simulation") or {}
    steps = sim.get("steps_per_epoch")
    return steps if isinstance(steps, int) and steps > 0 else 1


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
