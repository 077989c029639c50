// The SWARM dashboard page: reads the state stream (/api/stream), draws it, sends the controls.
// Hand-written SVG; no library and nothing from the network but this server.
"use strict";

const S = {
  run: null, epochs: [], agents: [], edges: [], recent: [], governance: [],
  epoch: 0, step: 0, paused: false, live: false, ended: null, kind: null, closed: false,
  sort: { key: "id", dir: 1 },
};
const MAX_POINTS_DRAWN = 500;
const SVGNS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const runParam = new URLSearchParams(location.search).get("run");

function fmt(x) {
  if (x === null || x === undefined) return "-";
  if (typeof x === "number") return x.toFixed(4);
  return String(x);
}
function tick(v) {
  const a = Math.abs(v);
  return v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
}
function esc(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}
function el(tag, attrs, parent) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

async function start() {
  const info = await (await fetch("/api/info")).json();
  S.kind = info.kind;
  $("title").textContent = info.title;
  if (info.kind === "sweep" && !runParam) {
    $("run").hidden = true;
    $("position").hidden = true;
    $("controls").hidden = true;
    $("sweep").hidden = false;
    setStatus("sweep", "ended");
    drawSweep(await (await fetch("/api/sweep")).json(), info.runs);
    return;
  }
  if (info.kind !== "live") $("controls").hidden = true;
  for (const [id, action] of [["btn-pause", "pause"], ["btn-resume", "resume"], ["btn-step", "step"], ["btn-stop", "stop"]]) {
    $(id).addEventListener("click", () => control(action));
  }
  for (const th of document.querySelectorAll("#agents th[data-key]")) {
    th.addEventListener("click", () => {
      const key = th.dataset.key;
      S.sort = { key, dir: S.sort.key === key ? -S.sort.dir : 1 };
      drawAgents();
    });
  }
  connect();
}

function connect() {
  const url = "/api/stream" + (runParam ? "?run=" + encodeURIComponent(runParam) : "");
  const source = new EventSource(url);
  source.onmessage = (message) => apply(JSON.parse(message.data));
  source.addEventListener("end", () => { source.close(); S.closed = true; drawStatus(); });
  source.onerror = () => { if (S.ended || S.closed) { source.close(); } drawStatus(); };
}

function apply(d) {
  if (d.run) { S.run = d.run; buildCharts(); }
  if (d.epochs) S.epochs.push(...d.epochs);
  if (d.agents) S.agents = d.agents;
  if (d.edges) S.edges = d.edges;
  if (d.recent) S.recent = S.recent.concat(d.recent).slice(-200);
  if (d.governance) S.governance = S.governance.concat(d.governance).slice(-300);
  Object.assign(S, { epoch: d.epoch, step: d.step, paused: d.paused, live: d.live, ended: d.ended });
  drawStatus();
  drawCharts();
  if (d.agents) drawAgents();
  if (d.edges || d.agents) drawNetwork();
  if (d.recent) drawFeed("events", S.recent);
  if (d.governance) drawFeed("governance", S.governance);
  if (d.llm) drawLLM(d.llm);
}

function drawLLM(u) {
  $("llm").hidden = false;
  const share = u.calls ? (100 * u.failed / u.calls).toFixed(1) : "0.0";
  $("llm-totals").textContent =
    `${u.calls} calls, ${u.failed} failed (${share}%), ${u.repaired} repaired, ${u.fallbacks} fallbacks, ` +
    `${u.refusals} rate-limit refusals; tokens in ${u.input_tokens}, out ${u.output_tokens}; ` +
    `cost ${u.cost_usd.toFixed(4)} USD`;
  $("llm-causes").tBodies[0].innerHTML = Object.entries(u.causes).map(([cause, n]) =>
    `<tr><td>${esc(cause)}</td><td>${n}</td></tr>`).join("");
  const rows = (items) => items.map((r) =>
    `<tr><td>${esc(r.id)}</td><td>${r.calls}</td><td>${r.failed}</td><td>${r.cost_usd.toFixed(4)}</td></tr>`).join("");
  $("llm-agents").tBodies[0].innerHTML = rows(u.agents);
  $("llm-models").tBodies[0].innerHTML = rows(u.models);
}

async function control(action) {
  const response = await fetch("/api/control/" + action, { method: "POST" });
  const body = await response.json();
  if (response.ok) { S.paused = body.paused; } else { alert(body.error); }
  drawStatus();
}

function setStatus(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.className = "status " + kind;
}

function drawStatus() {
  if (S.run) $("n-epochs").textContent = S.run.n_epochs;
  $("epoch").textContent = S.epochs.length;
  $("step").textContent = S.step;
  const live = S.kind === "live" && !S.ended && !S.closed;
  if (S.ended) setStatus("ended: " + S.ended.reason, "ended");
  else if (S.kind !== "live") setStatus("finished run (no run_ended in the log)", "ended");
  else if (S.closed) setStatus("disconnected", "ended");
  else if (S.paused) setStatus("paused", "paused");
  else setStatus("running", "running");
  $("btn-pause").disabled = !live || S.paused;
  $("btn-resume").disabled = !live || !S.paused;
  $("btn-step").disabled = !live;
  $("btn-stop").disabled = !live;
}

// ---------------------------------------------------------------- time series

function buildCharts() {
  const box = $("charts");
  box.textContent = "";
  for (const m of S.run.metrics) {
    const card = document.createElement("div");
    card.className = "chart";
    card.id = "chart-" + m.name;
    card.innerHTML =
      `<div class="head"><b>${esc(m.name)}</b><span class="value" id="value-${esc(m.name)}">-</span></div>` +
      `<div class="desc">${esc(m.description)}</div>`;
    const svg = el("svg", { viewBox: "0 0 320 150", preserveAspectRatio: "none", id: "svg-" + m.name });
    card.appendChild(svg);
    box.appendChild(card);
  }
}

function drawCharts() {
  if (!S.run) return;
  for (const m of S.run.metrics) drawSeries(m.name);
}

function drawSeries(name) {
  const svg = $("svg-" + name);
  if (!svg) return;
  const points = S.epochs.filter((e) => typeof e[name] === "number").map((e) => [e.epoch, e[name]]);
  svg.textContent = "";
  svg.dataset.points = points.length;
  const last = points.length ? points[points.length - 1] : null;
  const shown = $("value-" + name);
  shown.textContent = last ? fmt(last[1]) : "-";
  shown.dataset.epoch = last ? last[0] : "";
  const [L, R, T, B] = [34, 314, 8, 136];
  const xmax = Math.max(S.epoch, S.epochs.length ? S.epochs[S.epochs.length - 1].epoch : 0, 1);
  let lo = Math.min(...points.map((p) => p[1]));
  let hi = Math.max(...points.map((p) => p[1]));
  if (!points.length) { lo = 0; hi = 1; }
  if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
  const x = (e) => L + (R - L) * (e / xmax);
  const y = (v) => B - (B - T) * ((v - lo) / (hi - lo));
  el("line", { x1: L, y1: B, x2: R, y2: B, class: "axis" }, svg);
  el("line", { x1: L, y1: T, x2: L, y2: B, class: "axis" }, svg);
  for (const v of [lo, hi]) {
    const t = el("text", { x: L - 3, y: y(v) + 3, "text-anchor": "end", class: "tick" }, svg);
    t.textContent = tick(v);
  }
  const t = el("text", { x: R, y: B + 12, "text-anchor": "end", class: "tick" }, svg);
  t.textContent = "epoch " + xmax;
  el("line", { x1: x(S.epoch), y1: T, x2: x(S.epoch), y2: B, class: "now" }, svg);
  if (points.length) {
    el("polyline", { points: points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" "), class: "line" }, svg);
    for (const [e, v] of points.slice(-MAX_POINTS_DRAWN)) {
      const dot = el("circle", { cx: x(e), cy: y(v), r: 2.2, class: "point", "data-epoch": e, "data-value": String(v) }, svg);
      el("title", {}, dot).textContent = `epoch ${e}: ${fmt(v)}`;
    }
  }
}

// ---------------------------------------------------------------- agents and network

function drawAgents() {
  const { key, dir } = S.sort;
  const rows = [...S.agents].sort((a, b) => (a[key] < b[key] ? -dir : a[key] > b[key] ? dir : 0));
  for (const th of document.querySelectorAll("#agents th[data-key]")) {
    th.classList.toggle("sorted", th.dataset.key === key);
    th.classList.toggle("asc", th.dataset.key === key && dir === 1);
  }
  $("agents").tBodies[0].innerHTML = rows.map((a) =>
    `<tr class="${a.frozen ? "frozen" : ""}" data-id="${esc(a.id)}"><td>${esc(a.id)}</td><td>${esc(a.type)}</td>` +
    `<td>${fmt(a.reputation)}</td><td>${fmt(a.resources)}</td><td>${a.interactions}</td><td>${a.frozen ? "yes" : ""}</td></tr>`
  ).join("");
}

const PALETTE = ["#1565c0", "#e65100", "#6a1b9a", "#2e7d32", "#c62828", "#00838f", "#5d4037", "#9e9d24"];

function drawNetwork() {
  const svg = $("network");
  svg.textContent = "";
  const agents = S.agents;
  const n = agents.length;
  if (!n) return;
  const types = [...new Set(agents.map((a) => a.type))];
  const at = {};
  agents.forEach((a, i) => {
    const angle = (2 * Math.PI * i) / n - Math.PI / 2;
    at[a.id] = [210 + 170 * Math.cos(angle), 210 + 170 * Math.sin(angle)];
  });
  const most = Math.max(1, ...S.edges.map((e) => e.count));
  for (const e of S.edges) {
    const a = at[e.source], b = at[e.target];
    if (!a || !b) continue;
    const line = el("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1],
      "stroke-width": 0.5 + 4 * (e.count / most), "stroke-opacity": 0.25 + 0.6 * (e.accepted / e.count) }, svg);
    el("title", {}, line).textContent = `${e.source} → ${e.target}: ${e.count} (${e.accepted} accepted)`;
  }
  const mostInteractions = Math.max(1, ...agents.map((a) => a.interactions));
  for (const a of agents) {
    const [cx, cy] = at[a.id];
    const node = el("circle", { cx, cy, r: 3 + 7 * Math.sqrt(a.interactions / mostInteractions),
      fill: PALETTE[types.indexOf(a.type) % PALETTE.length], stroke: a.frozen ? "#b71c1c" : "#fff", "stroke-width": 2 }, svg);
    el("title", {}, node).textContent = `${a.id} (${a.type}): ${a.interactions} interactions`;
    if (n <= 40) {
      const label = el("text", { x: cx, y: cy - 11, "text-anchor": "middle" }, svg);
      label.textContent = a.id;
    }
  }
  types.forEach((t, i) => {
    el("circle", { cx: 8, cy: 10 + 14 * i, r: 5, fill: PALETTE[i % PALETTE.length] }, svg);
    el("text", { x: 16, y: 13 + 14 * i }, svg).textContent = t;
  });
}

function drawFeed(id, items) {
  $(id).innerHTML = items.slice(-100).reverse().map((e) =>
    `<li title="${esc(e.text)}">[${e.epoch}.${e.step}] #${e.seq} <span class="type">${esc(e.type)}</span> ${esc(e.text)}</li>`
  ).join("");
}

// ---------------------------------------------------------------- sweeps

function drawSweep(sweep, runs) {
  $("configurations").tBodies[0].innerHTML = sweep.configurations.map((c) =>
    `<tr><td>${esc(c.name)}</td><td><code>${esc(c.overrides || "(the base scenario)")}</code></td></tr>`).join("");
  const box = $("sweep-charts");
  const names = sweep.configurations.map((c) => c.name);
  for (const m of sweep.metrics.filter((m) => m.headline)) {
    const rows = sweep.aggregate.filter((r) => r.metric === m.name);
    const card = document.createElement("div");
    card.className = "chart";
    card.id = "lever-" + m.name;
    card.innerHTML = `<div class="head"><b>${esc(m.name)}</b></div><div class="desc">${esc(m.description)}</div>`;
    const svg = el("svg", { viewBox: "0 0 320 150", preserveAspectRatio: "none" });
    card.appendChild(svg);
    box.appendChild(card);
    let lo = Math.min(...rows.map((r) => r.ci_low)), hi = Math.max(...rows.map((r) => r.ci_high));
    if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
    const [L, R, T, B] = [34, 314, 8, 120];
    const y = (v) => B - (B - T) * ((v - lo) / (hi - lo));
    el("line", { x1: L, y1: B, x2: R, y2: B, class: "axis" }, svg);
    for (const v of [lo, hi]) {
      el("text", { x: L - 3, y: y(v) + 3, "text-anchor": "end", class: "tick" }, svg).textContent = tick(v);
    }
    rows.forEach((r) => {
      const i = names.indexOf(r.configuration);
      const cx = L + (R - L) * ((i + 0.5) / names.length);
      el("line", { x1: cx, y1: y(r.ci_low), x2: cx, y2: y(r.ci_high), class: "ci" }, svg);
      const dot = el("circle", { cx, cy: y(r.mean), r: 3.5, class: "mean", "data-mean": String(r.mean) }, svg);
      el("title", {}, dot).textContent = `${r.configuration}: ${fmt(r.mean)} [${fmt(r.ci_low)}, ${fmt(r.ci_high)}] (n=${r.n})`;
      el("text", { x: cx, y: B + 14, "text-anchor": "middle", class: "tick" }, svg).textContent = r.configuration;
    });
  }
  $("sweep-runs").innerHTML = runs.map((r) => `<li><a href="?run=${encodeURIComponent(r)}">${esc(r)}</a></li>`).join("");
}

start();
