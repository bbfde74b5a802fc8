// The distsys dashboard page. It keeps what the server streams of a
// netsim network (server-sent events from "events"), which graph.js draws
// as nodes, links and moving messages and spacetime.js as a live
// space-time diagram, and it sends the instructor's clicks to the server's
// controls ("api/..."), which change the real network. Plain JavaScript,
// no library, no build step.
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
