// The network picture of the dashboard page: the nodes on a circle, an
// arrow for each direction of each link, and the messages moving along
// them. It draws what app.js keeps (state, flying).
"use strict";

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

