// The distsys dashboard page. It draws a netsim network as the server
// streams it (server-sent events from "events"), animates every message
// along its link, keeps a live space-time diagram, and sends the
// instructor's clicks to the server's controls ("api/..."), which change
// the real network. Plain JavaScript, no library, no build step.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const NODE_R = 34;          // radius of a node in the network picture
const TRAVEL_MS = 800;      // how long a message takes to cross a link on screen
const WINDOW_MS = 12000;    // how much time the space-time diagram shows
const MAX_FLYING = 250;     // messages animated at once; more are only counted
const MAX_PER_LINK = 12;    // messages animated at once on one link
const MAX_HISTORY = 3000;   // messages kept for the space-time diagram

let state = null;           // the latest snapshot of the network
let clockOffset = 0;        // server time (ms since the dashboard started) minus performance.now()
let nodes = [];             // node names, in drawing order
let pos = {};               // node name -> {x, y} in the network picture
const flying = new Map();   // copy id -> a message on its way (see onSend)
const messages = new Map(); // copy id -> a message of the space-time diagram
const marks = [];           // changes of the network, for the space-time diagram
const counts = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
const reasons = {};         // drop reason -> count, since the dashboard started
const picked = new Set();   // the nodes picked for one side of a partition
let selected = null;        // the link {from, to} whose faults the sliders set
let lostEvents = 0;         // events the server dropped because the page fell behind
let firstAt = null;         // when the first message the page saw was sent
const perLink = {};         // "from>to" -> messages animated on that link now

const $ = (id) => document.getElementById(id);
const now = () => performance.now() + clockOffset;

function el(name, attrs, text) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- The stream of events ----

function connect() {
  const es = new EventSource("events");
  es.onopen = () => setStatus("connected", "ok");
  es.onerror = () => setStatus("reconnecting…", "bad");
  es.addEventListener("state", (m) => applyState(JSON.parse(m.data)));
  es.addEventListener("net", (m) => onNet(JSON.parse(m.data)));
  es.addEventListener("narration", (m) => {
    const n = JSON.parse(m.data);
    narrate(n.at, n.text, "");
  });
  es.addEventListener("lost", (m) => {
    lostEvents += JSON.parse(m.data).count;
    $("lost").hidden = false;
    $("lost").textContent = `${lostEvents} events not shown: this page fell behind`;
  });
}

function setStatus(text, cls) {
  $("status").textContent = text;
  $("status").className = "status " + cls;
}

function onNet(e) {
  switch (e.kind) {
    case "send": return onSend(e);
    case "deliver": return onFate(e, "delivered");
    case "drop": return onFate(e, "dropped");
  }
  // A change of the network: narrate it, mark it on the diagram.
  marks.push(e);
  while (marks.length > 500) marks.shift();
  narrate(e.at, describe(e), "change " + markClass(e.kind));
}

function onSend(e) {
  counts.sent++;
  if (firstAt === null) firstAt = e.at;
  const m = { id: e.id, from: e.from, to: e.to, label: e.label || "", sent: e.at, fate: null, at: null, reason: "" };
  messages.set(e.id, m);
  if (messages.size > MAX_HISTORY) messages.delete(messages.keys().next().value);
  const key = e.from + ">" + e.to;
  if (flying.size < MAX_FLYING && (perLink[key] || 0) < MAX_PER_LINK && pos[e.from] && pos[e.to] && e.from !== e.to) {
    m.start = performance.now();
    flying.set(e.id, m);
    perLink[key] = (perLink[key] || 0) + 1;
  }
}

// land ends the animation of a message.
function land(id, m) {
  flying.delete(id);
  perLink[m.from + ">" + m.to]--;
}

function onFate(e, fate) {
  let m = messages.get(e.id);
  if (!m) { // a duplicate's copy, or a message sent before the page opened
    m = { id: e.id, from: e.from, to: e.to, label: e.label || "", sent: e.at, fate: null };
    messages.set(e.id, m);
  }
  m.fate = fate;
  m.at = e.at;
  m.fateStart = performance.now();
  if (fate === "delivered") counts.delivered++;
  if (fate === "dropped") {
    counts.dropped++;
    m.reason = e.reason;
    reasons[e.reason] = (reasons[e.reason] || 0) + 1;
  }
  showCounts();
}

// ---- The snapshot: nodes, links, counters ----

function applyState(s) {
  state = s;
  clockOffset = s.at - performance.now();
  $("title").textContent = s.title;
  document.title = s.title;
  $("seed").textContent = "seed " + s.seed;
  counts.sent = counts.delivered = counts.dropped = counts.duplicated = 0;
  for (const r of Object.keys(reasons)) delete reasons[r];
  Object.assign(reasons, s.reasons || {});
  for (const l of s.links) {
    counts.sent += l.sent; counts.delivered += l.delivered;
    counts.dropped += l.dropped; counts.duplicated += l.duplicated;
  }
  showCounts();
  const names = s.nodes.map((n) => n.name);
  if (names.join("\n") !== nodes.join("\n")) {
    nodes = names;
    layoutNodes();
    drawChips();
  }
  drawGraph();
  drawLanes();
  showControls();
}

function showCounts() {
  $("sent").textContent = counts.sent;
  $("delivered").textContent = counts.delivered;
  $("dropped").textContent = counts.dropped;
  $("inflight").textContent = Math.max(0, counts.sent + counts.duplicated - counts.delivered - counts.dropped);
  $("reasons").textContent = Object.entries(reasons).map(([r, n]) => `${r} ${n}`).join(" · ");
  if (state) {
    $("held").textContent = state.held;
    $("heldbox").classList.toggle("lost", state.holding);
    $("pause").classList.toggle("on", state.holding && !state.slow);
    $("slowrate").textContent = state.slow ? state.slow + "/s" : "off";
  }
}

// layoutNodes puts the nodes on a circle, the first at the top.
function layoutNodes() {
  pos = {};
  const cx = 350, cy = 250, r = nodes.length <= 2 ? 170 : 185;
  nodes.forEach((name, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(nodes.length, 1);
    pos[name] = { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) };
  });
}

// ends returns where the arrow from a to b starts and ends: between the
// node circles, shifted to the right of the line so that the two
// directions of a link are two arrows side by side.
function ends(a, b, shift = 7) {
  const p = pos[a], q = pos[b];
  const dx = q.x - p.x, dy = q.y - p.y, len = Math.hypot(dx, dy) || 1;
  const ux = dx / len, uy = dy / len, nx = -uy * shift, ny = ux * shift;
  return {
    x1: p.x + ux * NODE_R + nx, y1: p.y + uy * NODE_R + ny,
    x2: q.x - ux * (NODE_R + 3) + nx, y2: q.y - uy * (NODE_R + 3) + ny,
  };
}

function sideOf(name) {
  if (!state || !state.groups) return 0;
  const i = state.groups.findIndex((g) => g.includes(name));
  return i < 0 ? state.groups.length + 1 : i + 1;
}

// drawGraph brings the picture of the network up to date. It changes the
// elements already drawn rather than drawing new ones, so that an element
// under the mouse stays the same element while the instructor clicks it.
const linkEls = new Map(); // "from>to" -> {hit, line, label}
const nodeEls = new Map(); // name -> {g, x, sub}

function drawGraph() {
  const shown = state.links.filter((l) => pos[l.from] && pos[l.to] && l.from !== l.to &&
    (l.sent > 0 || l.own || l.cutLink || (selected && selected.from === l.from && selected.to === l.to)));
  const seen = new Set();
  for (const l of shown) {
    const key = l.from + ">" + l.to;
    seen.add(key);
    let le = linkEls.get(key);
    if (!le) {
      le = { hit: el("line", { class: "hit", "data-from": l.from, "data-to": l.to }), line: el("line", {}), label: el("text", { class: "linklabel" }) };
      le.hit.append(el("title"));
      le.hit.addEventListener("click", () => clickLink(le.link));
      $("links").append(le.hit, le.line, le.label);
      linkEls.set(key, le);
    }
    le.link = l;
    const e = ends(l.from, l.to), t = ends(l.from, l.to, 18);
    for (const x of [le.hit, le.line]) {
      x.setAttribute("x1", e.x1); x.setAttribute("y1", e.y1); x.setAttribute("x2", e.x2); x.setAttribute("y2", e.y2);
    }
    // A link's own faults are written on it; the defaults, shared by every
    // link, are in the faults panel.
    const f = l.faults, faulty = l.own && (f.drop > 0 || f.duplicate > 0 || f.delayMs > 0);
    le.line.setAttribute("class", "link" + (l.cut ? " cut" : faulty ? " faulty" : "") +
      (selected && selected.from === l.from && selected.to === l.to ? " selected" : ""));
    le.hit.firstChild.textContent = `${l.from} → ${l.to}: ${l.sent} sent, ${l.delivered} delivered, ${l.dropped} dropped` +
      (l.cutLink ? " (cut: click to heal)" : " (click to cut)");
    const words = [];
    if (faulty && f.drop > 0) words.push(`drop ${Math.round(f.drop * 100)}%`);
    if (faulty && f.duplicate > 0) words.push(`dup ${Math.round(f.duplicate * 100)}%`);
    if (faulty && f.delayMs > 0) words.push(`+${Math.round(f.delayMs)}ms`);
    le.label.textContent = words.join(" ");
    le.label.setAttribute("x", (t.x1 + t.x2) / 2);
    le.label.setAttribute("y", (t.y1 + t.y2) / 2 + 4);
  }
  for (const [key, le] of linkEls) {
    if (!seen.has(key)) { le.hit.remove(); le.line.remove(); le.label.remove(); linkEls.delete(key); }
  }
  const names = new Set();
  for (const n of state.nodes) {
    const p = pos[n.name];
    if (!p) continue;
    names.add(n.name);
    let ne = nodeEls.get(n.name);
    if (!ne) {
      ne = { g: el("g", { "data-node": n.name }) };
      ne.title = el("title");
      ne.x = el("path", { class: "x", d: "M -24 -24 L 24 24 M -24 24 L 24 -24" });
      ne.sub = el("text", { class: "sub", y: 52 });
      ne.g.append(ne.title, el("circle", { r: NODE_R }), ne.x, el("text", { class: "name", y: 6 }, n.name), ne.sub);
      ne.g.addEventListener("click", () => post(ne.node.crashed ? "api/restart" : "api/crash", { node: ne.node.name }));
      $("nodes").append(ne.g);
      nodeEls.set(n.name, ne);
    }
    ne.node = n;
    ne.g.setAttribute("class", `node side${sideOf(n.name) % 4}` + (n.crashed ? " crashed" : "") + (n.disconnected ? " disconnected" : ""));
    ne.g.setAttribute("transform", `translate(${p.x},${p.y})`);
    ne.title.textContent = n.crashed ? `${n.name} is down: click to restart it` : `click to crash ${n.name}`;
    ne.x.style.display = n.crashed ? "" : "none";
    ne.sub.textContent = n.crashed ? "crashed" : n.disconnected ? "cut off" : "";
  }
  for (const [name, ne] of nodeEls) {
    if (!names.has(name)) { ne.g.remove(); nodeEls.delete(name); }
  }
}

// ---- Messages on their way ----

// animate moves every message along its link: to 90% of the way while its
// fate is unknown (a held message waits there), then on to the end if it
// was delivered, or to a red cross half way if it was dropped.
function animate() {
  const layer = $("messages");
  layer.replaceChildren();
  const t = performance.now();
  for (const [id, m] of flying) {
    if (!pos[m.from] || !pos[m.to]) { land(id, m); continue; }
    const e = ends(m.from, m.to);
    const travel = Math.min((t - m.start) / TRAVEL_MS, 1);
    let p = Math.min(travel, 0.9), cls = "msg";
    if (m.fate === null && travel >= 0.9) cls += " held";
    if (m.fate === "delivered") {
      p = Math.max(travel, Math.min(1, 0.9 + (t - m.fateStart) / 300));
      if (p >= 1) {
        cls += " delivered";
        if (t - Math.max(m.fateStart, m.start + TRAVEL_MS) > 250) { land(id, m); continue; }
      }
    }
    if (m.fate === "dropped") {
      p = Math.min(travel, 0.55);
      if (p >= 0.55 || t - m.fateStart > 400) {
        const x = e.x1 + (e.x2 - e.x1) * p, y = e.y1 + (e.y2 - e.y1) * p;
        const d = `M ${x - 7} ${y - 7} L ${x + 7} ${y + 7} M ${x - 7} ${y + 7} L ${x + 7} ${y - 7}`;
        layer.append(el("path", { class: "msg droppedhalo", d }), el("path", { class: "msg dropped", d }));
        if (t - m.fateStart > 1200) land(id, m);
        continue;
      }
    }
    const x = e.x1 + (e.x2 - e.x1) * p, y = e.y1 + (e.y2 - e.y1) * p;
    layer.append(el("circle", { class: cls, cx: x, cy: y, r: 6, "data-from": m.from, "data-to": m.to }));
  }
  requestAnimationFrame(animate);
}

// ---- The space-time diagram ----

const ST = { left: 60, right: 560, top: 52, bottom: 490 };

function laneX(name) {
  const i = nodes.indexOf(name);
  if (nodes.length <= 1) return (ST.left + ST.right) / 2;
  return ST.left + ((ST.right - ST.left) * i) / (nodes.length - 1);
}

function drawLanes() {
  const g = $("lanes");
  g.replaceChildren();
  for (const name of nodes) {
    const x = laneX(name);
    g.append(el("text", { class: "lanename", x, y: 30 }, name));
  }
}

// drawSpacetime redraws the last WINDOW_MS of the run: one line per node,
// time flowing down, an arrow per message, and the changes of the network.
function drawSpacetime() {
  const g = $("st");
  g.replaceChildren();
  if (!state) return;
  // The window grows from the first message until it is WINDOW_MS long,
  // so that a fresh page fills its diagram.
  const t = now(), span = Math.min(WINDOW_MS, Math.max(3000, t - (firstAt ?? t) + 500)), from = t - span;
  $("window").textContent = Math.round(span / 1000);
  const y = (at) => ST.top + ((at - from) / span) * (ST.bottom - ST.top);
  // The node lines, grey while a node was down.
  const down = {};
  for (const m of marks) {
    if (m.kind === "crash") (down[m.node] = down[m.node] || []).push([m.at, Infinity]);
    if (m.kind === "restart" && down[m.node]) down[m.node][down[m.node].length - 1][1] = m.at;
  }
  for (const name of nodes) {
    const x = laneX(name);
    let y0 = ST.top - 10;
    for (const [a, b] of down[name] || []) {
      const ya = Math.max(ST.top - 10, Math.min(y(a), ST.bottom)), yb = Math.min(y(b), ST.bottom);
      if (yb < ST.top - 10) continue;
      g.append(el("line", { class: "lane", x1: x, y1: y0, x2: x, y2: ya }),
        el("line", { class: "lane down", x1: x, y1: ya, x2: x, y2: yb }));
      y0 = yb;
    }
    g.append(el("line", { class: "lane", x1: x, y1: y0, x2: x, y2: ST.bottom }));
  }
  // The changes of the network.
  for (const m of marks) {
    if (m.at < from) continue;
    const my = y(m.at), cls = markClass(m.kind);
    if (m.kind === "crash" || m.kind === "restart") {
      const x = laneX(m.node);
      g.append(m.kind === "crash"
        ? el("path", { class: "crashx", d: `M ${x - 8} ${my - 8} L ${x + 8} ${my + 8} M ${x - 8} ${my + 8} L ${x + 8} ${my - 8}` })
        : el("line", { class: "restartbar", x1: x - 9, y1: my, x2: x + 9, y2: my }));
      continue;
    }
    if (m.kind === "hold" || m.kind === "resume") continue;
    g.append(el("line", { class: "mark " + cls, x1: 8, y1: my, x2: 592, y2: my }),
      el("text", { class: "marktext " + cls, x: 8, y: my - 4 }, describe(m)));
  }
  // The messages, and labels where they fit: a label is left out if it
  // would cover one already placed (the tooltip still names the arrow).
  let labels = 0;
  const placed = [];
  const fits = (x, y, w) => {
    if (placed.some((b) => x < b.x + b.w && b.x < x + w && Math.abs(y - b.y) < 13)) return false;
    placed.push({ x, y, w });
    return true;
  };
  for (const m of messages.values()) {
    const end = m.fate ? m.at : t;
    if (end < from || !pos[m.from] || !pos[m.to]) continue;
    const x1 = laneX(m.from), y1 = y(m.sent), x2 = laneX(m.to);
    let line;
    if (m.fate === "dropped") {
      const xm = x1 + (x2 - x1) / 2, ym = Math.max(y(m.at), y1 + 6);
      line = el("line", { class: "m dropped", x1, y1, x2: xm, y2: ym, "data-from": m.from, "data-to": m.to });
      g.append(line, el("path", { class: "dropx", d: `M ${xm - 5} ${ym - 5} L ${xm + 5} ${ym + 5} M ${xm - 5} ${ym + 5} L ${xm + 5} ${ym - 5}` }));
    } else {
      const y2 = Math.max(y(end), y1 + 4);
      line = el("line", { class: "m " + (m.fate ? "delivered" : "flying"), x1, y1, x2, y2, "data-from": m.from, "data-to": m.to });
      g.append(line);
      const lx = (x1 + x2) / 2 - m.label.length * 3, ly = (y1 + y2) / 2 - 3;
      if (m.label && m.fate && labels < 60 && Math.abs(x2 - x1) > 90 && fits(lx, ly, m.label.length * 6.2)) {
        labels++;
        g.append(el("text", { class: "stlabel", x: lx, y: ly }, m.label));
      }
    }
    line.append(el("title", {}, `${m.label || "message"} ${m.from} → ${m.to}` + (m.fate ? `: ${m.fate}` : "") + (m.reason ? ` (${m.reason})` : "")));
  }
}

// ---- Words ----

function describe(e) {
  switch (e.kind) {
    case "crash": case "restart": case "disconnect": case "reconnect": return `${e.kind} ${e.node}`;
    case "partition": {
      const groups = (e.groups || []).filter((g) => g.length > 0);
      const rest = nodes.filter((n) => !groups.some((g) => g.includes(n)));
      if (rest.length) groups.push(rest);
      return "partition " + groups.map((g) => "{" + g.join(" ") + "}").join(" | ");
    }
    case "heal": return "heal: every node can reach every other";
    case "cut link": return `cut ${e.from} → ${e.to}`;
    case "heal link": return `heal ${e.from} → ${e.to}`;
    case "faults": {
      const f = e.faults || {}, parts = [];
      if (f.drop) parts.push(`drop ${Math.round(f.drop * 100)}%`);
      if (f.duplicate) parts.push(`duplicate ${Math.round(f.duplicate * 100)}%`);
      if (f.delayMs) parts.push(`delay ${f.delayMs}ms`);
      if (f.jitterMs) parts.push(`jitter ${f.jitterMs}ms`);
      return `faults on ${e.from ? e.from + " → " + e.to : "every link"}: ${parts.join(", ") || "none"}`;
    }
    case "hold": return "the network is paused: messages wait at the end of their link";
    case "resume": return "the network runs again";
  }
  return e.kind;
}

function markClass(kind) {
  switch (kind) {
    case "partition": case "disconnect": case "cut link": return "partition";
    case "heal": case "reconnect": case "heal link": return "heal";
  }
  return kind.replace(" ", "-");
}

function narrate(at, text, cls) {
  const list = $("narration");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  const li = document.createElement("li");
  li.className = cls;
  const stamp = document.createElement("span");
  stamp.className = "t";
  stamp.textContent = "+" + (at / 1000).toFixed(1) + "s";
  li.append(stamp, document.createTextNode(text));
  list.append(li);
  while (list.children.length > 400) list.firstChild.remove();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// ---- Controls ----

async function post(path, body) {
  $("error").textContent = "";
  try {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) });
    if (!r.ok) {
      $("error").textContent = (await r.text()).trim();
      return;
    }
    applyState(await r.json());
  } catch (err) {
    $("error").textContent = "the dashboard's server cannot be reached: " + err;
  }
}

// clickLink cuts or heals the direction of a link that was clicked, and
// shows its faults in the sliders.
function clickLink(l) {
  selected = { from: l.from, to: l.to };
  post("api/link", { from: l.from, to: l.to, cut: !l.cutLink });
}

function drawChips() {
  const box = $("chips");
  box.replaceChildren();
  for (const name of nodes) {
    const b = document.createElement("button");
    b.className = "chip" + (picked.has(name) ? " picked" : "");
    b.dataset.node = name;
    b.textContent = name;
    b.addEventListener("click", () => {
      picked.has(name) ? picked.delete(name) : picked.add(name);
      b.classList.toggle("picked", picked.has(name));
    });
    box.append(b);
  }
}

// showControls lists the links in the faults menu, and sets the sliders
// to the faults of the chosen link, or to the default faults, unless the
// instructor is moving one.
function showControls() {
  const menu = $("faultslink");
  const key = (from, to) => JSON.stringify([from, to]);
  const keys = state.links.filter((l) => l.from !== l.to && (l.sent > 0 || l.own || l.cutLink)).map((l) => key(l.from, l.to));
  if (selected && !keys.includes(key(selected.from, selected.to))) keys.push(key(selected.from, selected.to));
  const have = [...menu.options].slice(1).map((o) => o.value);
  if (have.join() !== keys.join()) {
    menu.replaceChildren(menu.options[0]);
    for (const k of keys) {
      const o = document.createElement("option");
      o.value = k;
      o.textContent = JSON.parse(k).join(" → ");
      menu.append(o);
    }
  }
  menu.value = selected ? key(selected.from, selected.to) : "";
  let f = state.defaults;
  if (selected) {
    const l = state.links.find((l) => l.from === selected.from && l.to === selected.to);
    if (l) f = l.faults;
  }
  $("linkbuttons").hidden = !selected;
  const set = (id, v, text) => {
    if (document.activeElement !== $(id)) $(id).value = v;
    $(id + "v").textContent = text;
  };
  set("drop", Math.round(f.drop * 100), Math.round(f.drop * 100) + "%");
  set("dup", Math.round(f.duplicate * 100), Math.round(f.duplicate * 100) + "%");
  set("delay", Math.round(f.delayMs), Math.round(f.delayMs) + " ms");
}

function setFaults() {
  const body = { drop: $("drop").value / 100, duplicate: $("dup").value / 100, delayMs: Number($("delay").value) };
  if (selected) Object.assign(body, selected);
  post("api/faults", body);
}

function wire() {
  $("pause").addEventListener("click", () => post("api/pause"));
  $("resume").addEventListener("click", () => { $("slow").value = 0; post("api/resume"); });
  $("step").addEventListener("click", () => post("api/step", { count: 1 }));
  $("slow").addEventListener("change", () => post("api/slow", { rate: Number($("slow").value) }));
  $("heal").addEventListener("click", () => post("api/heal"));
  $("split").addEventListener("click", () => {
    if (picked.size === 0) {
      $("error").textContent = "pick the nodes of one side first";
      return;
    }
    post("api/partition", { groups: [[...picked]] });
  });
  for (const id of ["drop", "dup", "delay"]) {
    $(id).addEventListener("input", () => {
      const v = $(id).value;
      $(id + "v").textContent = id === "delay" ? v + " ms" : v + "%";
    });
    $(id).addEventListener("change", setFaults);
  }
  $("cutboth").addEventListener("click", async () => {
    await post("api/link", { from: selected.from, to: selected.to, cut: true });
    post("api/link", { from: selected.to, to: selected.from, cut: true });
  });
  $("healboth").addEventListener("click", async () => {
    await post("api/link", { from: selected.from, to: selected.to, cut: false });
    post("api/link", { from: selected.to, to: selected.from, cut: false });
  });
  $("cleardefaults").addEventListener("click", () => post("api/faults", { from: selected.from, to: selected.to, clear: true }));
  $("faultslink").addEventListener("change", () => {
    const v = $("faultslink").value;
    selected = v ? { from: JSON.parse(v)[0], to: JSON.parse(v)[1] } : null;
    showControls();
    drawGraph();
  });
}

wire();
connect();
requestAnimationFrame(animate);
setInterval(drawSpacetime, 100);
