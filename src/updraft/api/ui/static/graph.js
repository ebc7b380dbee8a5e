/* The Graph tab: the DAG as boxes and arrows, left to right, coloured by the states of one run.

   Layout (ours, in the browser, so that collapsing a group re-lays out at once): each expanded
   TaskGroup is laid out on its own, then placed as one big node in its parent's layout. Inside
   one container: cycles made by lifting edges to the container level are broken (DFS), nodes are
   layered by longest path, edges longer than one layer get dummy points, the order inside each
   layer is improved by barycenter sweeps, and nodes are pulled towards their neighbours' heights.
   Collapsed groups are single nodes; edges to their tasks attach to them. */
"use strict";
(function () {
  const U = window.Updraft;
  const view = document.getElementById("dag-view");
  const holder = document.getElementById("graph");
  const picker = document.getElementById("run-picker");
  const statusEl = document.getElementById("graph-status");
  const dagId = view.dataset.dagId;
  const SVGNS = "http://www.w3.org/2000/svg";
  const NODE_W = 168, NODE_H = 36, PAD = 12, HEAD = 24, LAYER_GAP = 64, NODE_GAP = 12, DUMMY_H = 4;
  const FINISHED_RUN = new Set(["success", "failed"]);
  const STATES = ["success", "running", "queued", "scheduled", "failed", "upstream_failed", "up_for_retry",
    "up_for_reschedule", "skipped", "deferred", "restarting", "removed"];
  const collapsedKey = `updraft.graph.collapsed.${dagId}`;
  let collapsed = new Set(JSON.parse(localStorage.getItem(collapsedKey) || "[]"));
  let graph = null, layout = null, states = null, runs = [], chosenRun = view.dataset.runId || null;
  let zoom = { x: 0, y: 0, k: 1 }, viewport = null, svg = null, userMoved = false;

  /* ---- layout ------------------------------------------------------------------------------ */

  function layoutGraph(data, closed) {
    const t0 = performance.now();
    const groups = new Map(data.groups.map((g) => [g.id, g]));
    // The outermost collapsed group holding a group (or null): what its tasks are drawn as.
    const hiddenBy = new Map();
    for (const g of data.groups) {   // parents come before children
      const above = g.parent !== null ? hiddenBy.get(g.parent) : null;
      hiddenBy.set(g.id, above || (closed.has(g.id) ? g.id : null));
    }
    const items = new Map();   // key -> {key, kind, id, parent (container key), children, order}
    const root = { key: "", kind: "root", children: [], parent: null };
    items.set("", root);
    for (const g of data.groups) {
      const cover = g.parent !== null ? hiddenBy.get(g.parent) : null;
      if (cover) continue;
      const kind = closed.has(g.id) ? "cgroup" : "group";
      items.set("g:" + g.id, { key: "g:" + g.id, kind, id: g.id, label: g.label, count: g.tasks, tooltip: g.tooltip,
        parent: g.parent !== null ? "g:" + g.parent : "", children: [], order: Infinity });
    }
    const rep = new Map();
    data.nodes.forEach((n, index) => {
      const cover = n.group !== null ? hiddenBy.get(n.group) : null;
      if (cover) { rep.set(n.id, "g:" + cover); const it = items.get("g:" + cover); it.order = Math.min(it.order, index); return; }
      rep.set(n.id, "t:" + n.id);
      items.set("t:" + n.id, { key: "t:" + n.id, kind: "task", id: n.id, label: n.label, operator: n.operator,
        mapped: n.mapped, parent: n.group !== null ? "g:" + n.group : "", order: index });
    });
    // A group's order is its first task's; attach children to their containers.
    const sortedItems = [...items.values()].filter((it) => it.kind !== "root");
    for (const it of sortedItems) {
      let p = items.get(it.parent);
      let child = it;
      while (p && p.kind !== "root" && child.order < p.order) { p.order = child.order; child = p; p = items.get(p.parent); }
    }
    for (const it of sortedItems) items.get(it.parent).children.push(it);
    const chain = (key) => { const out = []; let k = items.get(key).parent; while (k !== null) { out.push(k); k = items.get(k).parent; } return out.reverse(); };
    // Visible edges (between representatives) and their lifted form in the lowest common container.
    const visible = new Map();
    for (const e of data.edges) {
      const a = rep.get(e.from), b = rep.get(e.to);
      if (!a || !b || a === b) continue;
      const key = a + "\u0000" + b;
      const found = visible.get(key);
      if (found) { if (e.label && !found.label) found.label = e.label; continue; }
      visible.set(key, { from: a, to: b, label: e.label || null, fromTask: e.from, toTask: e.to });
    }
    const localEdges = new Map();   // container key -> Map("u\0v" -> local edge)
    for (const ve of visible.values()) {
      const ca = chain(ve.from).concat([ve.from]), cb = chain(ve.to).concat([ve.to]);
      let i = 0;
      while (i < ca.length && i < cb.length && ca[i] === cb[i]) i++;
      const container = ca[i - 1], u = ca[i], v = cb[i];
      if (!localEdges.has(container)) localEdges.set(container, new Map());
      const m = localEdges.get(container), k = u + "\u0000" + v;
      if (!m.has(k)) m.set(k, { u, v, points: null, reversed: false });
      ve.local = m.get(k);
      ve.container = container;
    }
    // Lay out every container, innermost first.
    const place = (container) => {
      for (const c of container.children) {
        if (c.kind === "group") place(c);
        else if (c.kind === "task" || c.kind === "cgroup") { c.w = NODE_W; c.h = NODE_H; }
      }
      layoutContainer(container, [...(localEdges.get(container.key) || new Map()).values()]);
    };
    place(root);
    // Absolute positions.
    const nodes = [], boxes = [];
    const absolute = (container, ox, oy) => {
      container.cx = ox; container.cy = oy;   // where its content starts
      for (const c of container.children) {
        c.ax = ox + c.x; c.ay = oy + c.y;
        if (c.kind === "group") { boxes.push(c); absolute(c, c.ax + PAD, c.ay + HEAD); } else nodes.push(c);
      }
    };
    absolute(root, 0, 0);
    const edges = [];
    for (const ve of visible.values()) {
      const a = items.get(ve.from), b = items.get(ve.to), c = items.get(ve.container);
      const start = { x: a.ax + a.w, y: a.ay + a.h / 2 }, end = { x: b.ax, y: b.ay + b.h / 2 };
      const inner = ve.local.reversed ? [] : ve.local.points.map((p) => ({ x: c.cx + p.x, y: c.cy + p.y }));
      edges.push({ from: ve.from, to: ve.to, label: ve.label, points: [start, ...inner, end], back: end.x <= start.x });
    }
    return { width: root.w, height: root.h, nodes, boxes, edges, ms: performance.now() - t0 };
  }

  /* Place a container's children (each with w, h) and compute the container's w, h. */
  function layoutContainer(container, local) {
    const kids = container.children.slice().sort((a, b) => a.order - b.order);
    const index = new Map(kids.map((k, i) => [k.key, i]));
    const out = kids.map(() => []), inn = kids.map(() => []);
    for (const e of local) { out[index.get(e.u)].push(e); inn[index.get(e.v)].push(e); }
    // Break cycles: an edge to a node on the DFS stack is reversed.
    const mark = new Uint8Array(kids.length);
    for (let s = 0; s < kids.length; s++) {
      if (mark[s]) continue;
      const stack = [[s, 0]];
      mark[s] = 1;
      while (stack.length) {
        const top = stack[stack.length - 1], edgesOut = out[top[0]];
        if (top[1] >= edgesOut.length) { mark[top[0]] = 2; stack.pop(); continue; }
        const e = edgesOut[top[1]++], w = index.get(e.v);
        if (mark[w] === 1) e.reversed = true;
        else if (!mark[w]) { mark[w] = 1; stack.push([w, 0]); }
      }
    }
    const fwd = local.filter((e) => !e.reversed);
    const succ = kids.map(() => []), pred = kids.map(() => []);
    for (const e of fwd) { succ[index.get(e.u)].push(index.get(e.v)); pred[index.get(e.v)].push(index.get(e.u)); }
    // Longest-path layers (Kahn's order over the acyclic edges).
    const layerOf = new Int32Array(kids.length), indeg = pred.map((p) => p.length);
    const queue = [];
    indeg.forEach((d, i) => { if (!d) queue.push(i); });
    for (let q = 0; q < queue.length; q++) {
      const i = queue[q];
      for (const j of succ[i]) {
        layerOf[j] = Math.max(layerOf[j], layerOf[i] + 1);
        if (--indeg[j] === 0) queue.push(j);
      }
    }
    // A node with no predecessors sits just before its first successor, not at the far left.
    for (let q = queue.length - 1; q >= 0; q--) {
      const i = queue[q];
      if (!pred[i].length && succ[i].length) layerOf[i] = Math.min(...succ[i].map((j) => layerOf[j])) - 1;
    }
    const layerCount = kids.length ? Math.max(...layerOf) + 1 : 0;
    // Units: real nodes then dummy points; each edge becomes a chain of units, one per layer.
    const units = kids.map((k, i) => ({ node: k, layer: layerOf[i], h: k.h, w: k.w, up: [], down: [] }));
    for (const e of fwd) {
      let prev = units[index.get(e.u)];
      const last = units[index.get(e.v)];
      e.dummies = [];
      for (let l = prev.layer + 1; l < last.layer; l++) {
        const d = { node: null, layer: l, h: DUMMY_H, w: 0, up: [], down: [] };
        units.push(d);
        e.dummies.push(d);
        prev.down.push(d); d.up.push(prev);
        prev = d;
      }
      prev.down.push(last); last.up.push(prev);
    }
    const layers = Array.from({ length: layerCount }, () => []);
    for (const u of units) layers[u.layer].push(u);   // kids first, in dependency order
    const setPos = (layer) => layer.forEach((u, i) => { u.pos = i; });
    layers.forEach(setPos);
    const bary = (u, side) => {
      const ns = u[side];
      if (!ns.length) return u.pos;
      let s = 0;
      for (const n of ns) s += n.pos;
      return s / ns.length;
    };
    for (let sweep = 0; sweep < 4; sweep++) {
      for (let l = 1; l < layerCount; l++) {
        for (const u of layers[l]) u.key = bary(u, "up");
        layers[l].sort((a, b) => a.key - b.key || a.pos - b.pos); setPos(layers[l]);
      }
      for (let l = layerCount - 2; l >= 0; l--) {
        for (const u of layers[l]) u.key = bary(u, "down");
        layers[l].sort((a, b) => a.key - b.key || a.pos - b.pos); setPos(layers[l]);
      }
    }
    // x: one column per layer, as wide as its widest node.
    const colX = [], colW = layers.map((layer) => layer.reduce((m, u) => Math.max(m, u.w), 0));
    let x = 0;
    for (let l = 0; l < layerCount; l++) { colX.push(x); x += colW[l] + LAYER_GAP; }
    const width = Math.max(0, x - LAYER_GAP);
    // y: stacked, then pulled towards the neighbours' centres, keeping order and gaps.
    for (const layer of layers) {
      let y = 0;
      for (const u of layer) { u.y = y; y += u.h + (u.node ? NODE_GAP : 2); }
    }
    const gap = (u) => (u.node ? NODE_GAP : 2);
    // Least squares towards the wishes with the order and gaps kept: blocks of touching nodes sit
    // at the mean of their members' wishes (pool adjacent violators).
    const pull = (layer, side) => {
      const blocks = [];
      for (const u of layer) {
        const ns = u[side];
        const want = ns.length ? ns.reduce((s, n) => s + n.y + n.h / 2, 0) / ns.length - u.h / 2 : u.y;
        let b = { units: [u], offs: [0], sum: want, n: 1, size: u.h + gap(u) };
        b.top = b.sum;
        while (blocks.length) {
          const last = blocks[blocks.length - 1];
          if (last.top + last.size <= b.top) break;
          blocks.pop();
          const merged = { units: last.units.concat(b.units), offs: last.offs.concat(b.offs.map((o) => o + last.size)),
            sum: last.sum + b.sum - b.n * last.size, n: last.n + b.n, size: last.size + b.size };
          merged.top = merged.sum / merged.n;
          b = merged;
        }
        blocks.push(b);
      }
      for (const b of blocks) b.units.forEach((u, i) => { u.y = b.top + b.offs[i]; });
    };
    for (let round = 0; round < 3; round++) {
      for (let l = 1; l < layerCount; l++) pull(layers[l], "up");
      for (let l = layerCount - 2; l >= 0; l--) pull(layers[l], "down");
    }
    let minY = Infinity, maxY = 0;
    for (const u of units) { minY = Math.min(minY, u.y); }
    if (!isFinite(minY)) minY = 0;
    for (const u of units) { u.y -= minY; maxY = Math.max(maxY, u.y + u.h); }
    for (const u of units) {
      if (u.node) { u.node.x = colX[u.layer] + (colW[u.layer] - u.w) / 2; u.node.y = u.y; }
    }
    for (const e of fwd) e.points = e.dummies.map((d) => ({ x: colX[d.layer] + colW[d.layer] / 2, y: d.y + d.h / 2 }));
    for (const e of local) if (e.reversed) e.points = [];
    if (container.kind === "root") {
      container.w = width; container.h = maxY;
    } else {
      container.w = Math.max(width, NODE_W) + 2 * PAD;
      container.h = maxY + HEAD + PAD;
    }
  }

  /* ---- drawing ----------------------------------------------------------------------------- */

  function curve(points) {
    let d = `M${points[0].x},${points[0].y}`;
    for (let i = 1; i < points.length; i++) {
      const p = points[i - 1], q = points[i];
      const dx = Math.max(20, Math.abs(q.x - p.x) / 2);
      d += ` C${p.x + dx},${p.y} ${q.x - dx},${q.y} ${q.x},${q.y}`;
    }
    return d;
  }

  function clip(text, n) { return text.length > n ? text.slice(0, n - 1) + "\u2026" : text; }

  function draw() {
    layout = layoutGraph(graph, collapsed);
    window.UpdraftGraphLayoutMs = layout.ms;
    const parts = [];
    parts.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>');
    parts.push('<g id="graph-viewport">');
    for (const b of layout.boxes) {
      parts.push(`<g class="gbox" data-group="${U.esc(b.id)}"><rect x="${b.ax}" y="${b.ay}" width="${b.w}" height="${b.h}" rx="6"/>` +
        `<text class="ghead" x="${b.ax + 8}" y="${b.ay + 16}">\u25BE ${U.esc(clip(b.label, Math.floor(b.w / 7)))}</text>` +
        (b.tooltip ? `<title>${U.esc(b.tooltip)}</title>` : "") + "</g>");
    }
    for (const e of layout.edges) {
      parts.push(`<path class="edge${e.back ? " back" : ""}" d="${curve(e.points)}" marker-end="url(#arrow)"/>`);
    }
    for (const e of layout.edges) {
      if (!e.label) continue;
      const mid = e.points.length > 2 ? e.points[Math.floor(e.points.length / 2)] :
        { x: (e.points[0].x + e.points[1].x) / 2, y: (e.points[0].y + e.points[1].y) / 2 };
      const text = clip(String(e.label), 24), w = text.length * 6.2 + 8;
      parts.push(`<g class="elabel"><rect x="${mid.x - w / 2}" y="${mid.y - 9}" width="${w}" height="16" rx="3"/>` +
        `<text x="${mid.x}" y="${mid.y + 3}" text-anchor="middle">${U.esc(text)}</text></g>`);
    }
    for (const n of layout.nodes) {
      const isGroup = n.kind === "cgroup";
      const title = isGroup ? `${n.id}: group of ${n.count} tasks (click to expand)` : `${n.id} (${n.operator})`;
      const name = isGroup ? `\u25B8 ${n.label}` : n.label;
      const sub = isGroup ? `${n.count} task${n.count === 1 ? "" : "s"}` : n.operator;
      parts.push(`<g class="gnode ${isGroup ? "cgroup" : "task"}" data-key="${U.esc(n.key)}" ${isGroup ? `data-group="${U.esc(n.id)}"` : `data-task-id="${U.esc(n.id)}"`} transform="translate(${n.ax},${n.ay})">` +
        `<title>${U.esc(title)}</title><rect class="box" width="${n.w}" height="${n.h}" rx="4"/><rect class="stripe" width="5" height="${n.h}" rx="2"/>` +
        `<text class="name" x="11" y="15">${U.esc(clip(name, 25))}</text>` +
        `<text class="sub" x="11" y="29">${U.esc(clip(sub || "", 21))}</text>` +
        (n.mapped ? `<text class="count" x="${n.w - 6}" y="29" text-anchor="end">[ ]</text>` : "") + "</g>");
    }
    parts.push("</g>");
    holder.innerHTML = `<svg xmlns="${SVGNS}" class="graph-svg" width="100%">${parts.join("")}</svg>`;
    svg = holder.querySelector("svg");
    viewport = svg.querySelector("#graph-viewport");
    const tasks = layout.nodes.filter((n) => n.kind === "task").length;
    statusEl.textContent = `${graph.nodes.length} tasks${tasks !== graph.nodes.length ? ` (${tasks} shown)` : ""} \u00B7 layout ${layout.ms.toFixed(0)} ms`;
    paintStates();
  }

  /* Fit the whole graph; on first sight a big graph is shown readable (from its left end). */
  function fit(readable) {
    if (!layout || !svg) return;
    const availW = holder.clientWidth - 20, maxH = window.innerHeight * 0.75;
    let k = Math.min(1, availW / Math.max(1, layout.width), (maxH - 20) / Math.max(1, layout.height));
    if (readable) k = Math.max(k, 0.55);
    svg.setAttribute("height", Math.max(160, Math.min(maxH, layout.height * k + 24)));
    zoom = { k, x: 10, y: 10 };
    applyZoom();
  }

  function applyZoom() { if (viewport) viewport.setAttribute("transform", `translate(${zoom.x},${zoom.y}) scale(${zoom.k})`); }

  function paintStates() {
    if (!svg) return;
    for (const el of svg.querySelectorAll(".gnode")) {
      let state = "", count = null;
      if (states) {
        if (el.dataset.group) state = states.groups[el.dataset.group] || "";
        else {
          const t = states.tasks[el.dataset.taskId];
          state = (t && t.state) || "";
          if (t && t.count !== undefined) count = t.count;
        }
      }
      if (el.dataset.state !== state) el.dataset.state = state;
      const c = el.querySelector(".count");
      if (c) c.textContent = count === null ? "[ ]" : `[${count}]`;
      const title = el.querySelector("title");
      if (title) title.textContent = title.textContent.replace(/\n.*$/s, "") + `\n${state ? state.replace(/_/g, " ") : "no status"}${count !== null ? `, ${count} mapped` : ""}`;
    }
  }

  /* ---- data -------------------------------------------------------------------------------- */

  function runLabel(r) { return `${U.fmtDate(r.run_after)} \u00B7 ${r.run_id} (${r.state})`; }

  async function loadRuns() {
    const data = await U.api("GET", `/ui/runs/${U.enc(dagId)}?limit=50`);
    runs = data.runs;
    if (chosenRun && !runs.some((r) => r.run_id === chosenRun)) {
      runs.unshift({ run_id: chosenRun, state: "?", run_after: null });
    }
    const current = chosenRun || (runs[0] && runs[0].run_id) || "";
    picker.innerHTML = runs.length
      ? runs.map((r) => `<option value="${U.esc(r.run_id)}" ${r.run_id === current ? "selected" : ""}>${U.esc(runLabel(r))}</option>`).join("")
      : '<option value="">No runs yet</option>';
  }

  async function loadStates() {
    const runId = picker.value;
    if (!runId) { states = null; paintStates(); return 10000; }
    try {
      states = await U.api("GET", `/ui/run-states/${U.enc(dagId)}/${U.enc(runId)}`);
    } catch (e) {
      statusEl.textContent = e.message;
      states = null;
      paintStates();
      return 10000;
    }
    if (graph && states.version !== graph.version) { await loadGraph(); } else paintStates();
    if (window.UpdraftTiPanel) window.UpdraftTiPanel.refreshIfOpen();
    const option = picker.selectedOptions[0];
    if (option) option.textContent = runLabel(states.run);
    return FINISHED_RUN.has(states.run.state) ? 10000 : 2000;
  }

  async function loadGraph() {
    graph = await U.api("GET", `/ui/graph/${U.enc(dagId)}`);
    if (!graph.nodes.length) { holder.innerHTML = '<p class="muted">This DAG has no tasks.</p>'; return; }
    draw();
    fit(true);
  }

  let tick = 0;
  async function refresh() {
    if ((++tick % 6 === 0 || !picker.value) && !chosenRun) await loadRuns();   // a newer run appears in the picker
    return loadStates();
  }

  function setCollapsed(ids, on) {
    ids.forEach((id) => (on ? collapsed.add(id) : collapsed.delete(id)));
    localStorage.setItem(collapsedKey, JSON.stringify([...collapsed]));
    if (graph) { draw(); fit(true); }
  }

  /* ---- interaction ------------------------------------------------------------------------- */

  let drag = null;
  holder.addEventListener("pointerdown", (event) => {
    if (!svg || event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY, zx: zoom.x, zy: zoom.y, moved: false };
  });
  window.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    drag.moved = true;
    userMoved = true;
    holder.classList.add("dragging");
    zoom.x = drag.zx + dx; zoom.y = drag.zy + dy;
    applyZoom();
  });
  window.addEventListener("pointerup", () => {
    if (drag && drag.moved) holder.dataset.justDragged = "1";
    drag = null;
    holder.classList.remove("dragging");
  });
  holder.addEventListener("wheel", (event) => {
    if (!svg) return;
    event.preventDefault();
    const r = svg.getBoundingClientRect(), px = event.clientX - r.left, py = event.clientY - r.top;
    const k = Math.min(3, Math.max(0.05, zoom.k * Math.exp(-event.deltaY * 0.0015)));
    zoom.x = px - ((px - zoom.x) * k) / zoom.k;
    zoom.y = py - ((py - zoom.y) * k) / zoom.k;
    zoom.k = k;
    userMoved = true;
    applyZoom();
  }, { passive: false });

  holder.addEventListener("click", (event) => {
    if (holder.dataset.justDragged) { delete holder.dataset.justDragged; return; }
    const group = event.target.closest("[data-group]");
    if (group) { setCollapsed([group.dataset.group], !collapsed.has(group.dataset.group)); return; }
    const node = event.target.closest("[data-task-id]");
    if (!node || !picker.value) return;
    svg.querySelectorAll(".gnode.sel").forEach((el) => el.classList.remove("sel"));
    node.classList.add("sel");
    window.UpdraftTiPanel.open(dagId, picker.value, node.dataset.taskId, null);
  });
  document.getElementById("run-details").addEventListener("click", () => {
    if (picker.value) window.UpdraftTiPanel.openRun(dagId, picker.value);
  });
  picker.addEventListener("change", () => {
    chosenRun = picker.value;
    history.replaceState(null, "", `?tab=graph&run_id=${U.enc(chosenRun)}`);
    loadStates();
  });
  document.getElementById("graph-expand").addEventListener("click", () => setCollapsed([...collapsed], false));
  document.getElementById("graph-collapse").addEventListener("click", () =>
    setCollapsed(graph ? graph.groups.filter((g) => g.parent === null).map((g) => g.id) : [], true));
  document.getElementById("graph-fit").addEventListener("click", () => { userMoved = false; fit(false); });
  document.addEventListener("updraft:changed", () => loadStates());
    document.getElementById("graph-legend").innerHTML =
    STATES.map((s) => `<span data-state="${s}"><i></i>${s.replace(/_/g, " ")}</span>`).join("") +
    '<span><i style="--c:#fff;border:1px solid #ccc"></i>no status</span>';

  // Follow the space left by the window and the task panel, unless the user moved the view.
  let fittedWidth = 0, resizeTimer = null;
  new ResizeObserver(() => {
    if (!layout || userMoved || Math.abs(holder.clientWidth - fittedWidth) < 4) return;
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { fittedWidth = holder.clientWidth; fit(true); }, 100);
  }).observe(holder);

  window.UpdraftGraphLayout = layoutGraph;
  (async () => {
    try {
      await Promise.all([loadRuns(), loadGraph()]);
    } catch (e) {
      holder.innerHTML = `<p class="error">Could not load the graph: ${U.esc(e.message)}</p>`;
      return;
    }
    U.poll(refresh, 2000);
  })();
})();
