// The live space-time diagram of the dashboard page: one line per node,
// time flowing down, an arrow per message, and the changes of the
// network across it. It draws what app.js keeps (messages, marks).
"use strict";

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

