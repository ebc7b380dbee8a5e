/* The Gantt tab: one bar per task instance of one run on a time axis, rows in the grid's order.
   The light part of a bar is the time queued (queued -> start), the solid part the run (start ->
   end, or to now while running); earlier tries are drawn faded on the same row. Times are
   measured against the server's clock (its "now" in each answer). */
"use strict";
(function () {
  const U = window.Updraft;
  const view = document.getElementById("dag-view");
  const holder = document.getElementById("gantt");
  const picker = document.getElementById("run-picker");
  const statusEl = document.getElementById("gantt-status");
  const tip = document.getElementById("chart-tip");
  const showTries = document.getElementById("gantt-tries");
  const dagId = view.dataset.dagId;
  const ROW_H = 20, LABEL_W = 230, AXIS_H = 26, MAX_MAP_ROWS = 40;
  const FINISHED_RUN = new Set(["success", "failed"]);
  const STATES = ["success", "running", "queued", "failed", "upstream_failed", "up_for_retry", "skipped", "deferred"];
  let chosenRun = view.dataset.runId || null, data = null, skew = 0, bars = [];

  const ms = (v) => (v ? new Date(v).getTime() : null);
  const serverNow = () => Date.now() + skew;

  /* A tick step (ms) giving about `count` ticks over `span` ms. */
  function tickStep(span, count) {
    const steps = [1, 2, 5, 10, 15, 30].map((s) => s * 1000)
      .concat([1, 2, 5, 10, 15, 30].map((m) => m * 60000), [1, 2, 3, 6, 12, 24].map((h) => h * 3600000));
    return steps.find((s) => span / s <= count) || steps[steps.length - 1];
  }

  function clock(t, step) {
    const d = new Date(t), pad = (n) => String(n).padStart(2, "0");
    return `${pad(d.getHours())}:${pad(d.getMinutes())}` + (step < 60000 ? `:${pad(d.getSeconds())}` : "");
  }

  /* Display rows: a mapped task with a few map indexes gets one row per index. */
  function displayRows() {
    const out = [];
    for (const row of data.rows) {
      if (row.group) { out.push({ row, label: row.label, depth: row.depth, group: true, instances: [] }); continue; }
      const insts = row.instances;
      if (row.mapped && insts.length > 1 && insts.length <= MAX_MAP_ROWS) {
        out.push({ row, label: `${row.label} [${insts.length}]`, depth: row.depth, instances: [], header: true });
        for (const ti of insts) out.push({ row, label: `[${ti.map_index}]`, depth: row.depth + 1, instances: [ti] });
      } else {
        out.push({ row, label: row.label + (row.mapped ? ` [${insts.length}]` : ""), depth: row.depth, instances: insts });
      }
    }
    // A group (or a mapped header) spans the instances of the rows under it.
    for (let i = 0; i < out.length; i++) {
      const r = out[i];
      if (!r.group && !r.header) continue;
      const spanned = [];
      for (let j = i + 1; j < out.length && (out[j].depth > r.depth); j++) spanned.push(...out[j].instances);
      r.span = spanned;
    }
    return out;
  }

  function render() {
    const rows = displayRows(), now = serverNow();
    let t0 = Infinity, t1 = -Infinity;
    for (const r of rows) {
      for (const ti of r.instances) {
        for (const t of [ti, ...(showTries.checked ? ti.tries : [])]) {
          const a = ms(t.queued) || ms(t.start), b = ms(t.end) || (t.start ? now : null);
          if (a !== null) t0 = Math.min(t0, a);
          if (b !== null) t1 = Math.max(t1, b);
        }
      }
    }
    if (!isFinite(t0)) { holder.innerHTML = '<p class="muted">No task of this run has started yet.</p>'; bars = []; return; }
    const runStart = ms(data.run.start_date);
    if (runStart !== null) t0 = Math.min(t0, runStart);
    if (t1 <= t0) t1 = t0 + 1000;
    drawnWidth = holder.clientWidth;
    const width = Math.max(400, drawnWidth - 20), plotW = width - LABEL_W - 16;
    const x = (t) => LABEL_W + ((t - t0) / (t1 - t0)) * plotW;
    const height = rows.length * ROW_H + 6;   // the rows; the time axis is a sticky strip above
    const axis = [];
    const step = tickStep(t1 - t0, Math.max(3, Math.floor(plotW / 90)));
    const parts = [];
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      parts.push(`<line class="gridline" x1="${x(t)}" x2="${x(t)}" y1="0" y2="${height}"/>`);
      if (x(t) < width - 30) axis.push(`<text class="axis" x="${x(t)}" y="${AXIS_H - 8}" text-anchor="middle">${clock(t, step)}</text>`);
    }
    bars = [];
    rows.forEach((r, i) => {
      const y = i * ROW_H;
      if (i % 2) parts.push(`<rect class="row-band" x="0" y="${y}" width="${width}" height="${ROW_H}"/>`);
      const taskAttr = r.group ? "" : ` data-task-id="${U.esc(r.row.id)}"${r.instances.length === 1 && r.row.mapped ? ` data-map-index="${r.instances[0].map_index}"` : ""}`;
      parts.push(`<text class="row-label${r.group ? " group" : ""}" x="${6 + r.depth * 14}" y="${y + 14}"${taskAttr}>` +
        `${r.group ? "\u25BE " : ""}${U.esc(r.label.length > 30 ? r.label.slice(0, 29) + "\u2026" : r.label)}</text>`);
      if (r.span) {
        const starts = r.span.map((t) => ms(t.start)).filter((v) => v !== null);
        if (starts.length) {
          const a = Math.min(...starts), b = Math.max(...r.span.map((t) => ms(t.end) || (t.start ? now : a)));
          parts.push(`<rect class="span" x="${x(a)}" y="${y + 8}" width="${Math.max(1, x(b) - x(a))}" height="4" rx="2"/>`);
        }
      }
      for (const ti of r.instances) {
        const tries = showTries.checked ? ti.tries : [];
        for (const t of tries) {
          if (!t.start) continue;
          const a = ms(t.start), b = ms(t.end) || a;
          bars.push({ row: r, ti, t, tryOnly: true });
          parts.push(`<rect class="bar try" data-bar="${bars.length - 1}" data-state="${U.esc(t.state || "")}" x="${x(a)}" y="${y + 5}" width="${Math.max(2, x(b) - x(a))}" height="${ROW_H - 10}" rx="2"/>`);
        }
        const q = ms(ti.queued), s = ms(ti.start), e = ms(ti.end) || (s !== null ? now : null);
        if (q === null && s === null) continue;
        bars.push({ row: r, ti, t: ti });
        const id = bars.length - 1, state = U.esc(ti.state || "");
        if (q !== null) {
          const qe = s !== null ? s : now;
          parts.push(`<rect class="bar queued-part" data-bar="${id}" data-state="${state}" x="${x(q)}" y="${y + 3}" width="${Math.max(1, x(qe) - x(q))}" height="${ROW_H - 6}" rx="2"/>`);
        }
        if (s !== null) {
          parts.push(`<rect class="bar" data-bar="${id}" data-state="${state}" x="${x(s)}" y="${y + 3}" width="${Math.max(2, x(e) - x(s))}" height="${ROW_H - 6}" rx="2"/>`);
        }
      }
    });
    if (!FINISHED_RUN.has(data.run.state) && now <= t1 + 1) {
      parts.push(`<line class="now-line" x1="${x(now)}" x2="${x(now)}" y1="0" y2="${height}"/>`);
      axis.push(`<text class="axis now" x="${x(now)}" y="${AXIS_H - 8}" text-anchor="end">now\u00A0</text>`);
    }
    parts.push(`<line class="gridline" x1="${LABEL_W - 4}" x2="${LABEL_W - 4}" y1="0" y2="${height}"/>`);
    holder.innerHTML = `<div class="gantt-axis"><svg width="${width}" height="${AXIS_H}">${axis.join("")}</svg></div>` +
      `<svg width="${width}" height="${height}">${parts.join("")}</svg>`;
    const total = bars.filter((b) => !b.tryOnly).length;
    statusEl.textContent = `${total} task instance${total === 1 ? "" : "s"} \u00B7 ${U.fmtDuration((t1 - t0) / 1000)} shown`;
  }

  function describe(bar) {
    const t = bar.t, now = serverNow();
    const name = bar.row.row.id + (bar.ti.map_index >= 0 ? ` [${bar.ti.map_index}]` : "");
    const lines = [`${name}${bar.tryOnly ? ` \u00B7 try ${t.try_number}` : ` \u00B7 try ${t.try_number}`}`, `state: ${t.state || "no status"}`];
    if (t.queued) lines.push(`queued:  ${U.fmtDate(t.queued)}`);
    if (t.start) lines.push(`started: ${U.fmtDate(t.start)}`);
    if (t.end) lines.push(`ended:   ${U.fmtDate(t.end)}`);
    if (t.queued && t.start) lines.push(`waited ${U.fmtDuration((ms(t.start) - ms(t.queued)) / 1000)} in the queue`);
    if (t.start) lines.push(`ran ${U.fmtDuration(((ms(t.end) || now) - ms(t.start)) / 1000)}${t.end ? "" : " so far"}`);
    return lines.join("\n");
  }

  holder.addEventListener("mousemove", (event) => {
    const el = event.target.closest("[data-bar]");
    if (!el) { tip.style.display = "none"; return; }
    tip.textContent = describe(bars[Number(el.dataset.bar)]);
    tip.style.display = "block";
    tip.style.left = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + "px";
    tip.style.top = event.clientY + 14 + "px";
  });
  holder.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  holder.addEventListener("click", (event) => {
    const el = event.target.closest("[data-bar], [data-task-id]");
    if (!el || !picker.value) return;
    let taskId, mapIndex;
    if (el.dataset.bar !== undefined) {
      const bar = bars[Number(el.dataset.bar)];
      taskId = bar.row.row.id; mapIndex = bar.row.row.mapped ? bar.ti.map_index : -1;
    } else {
      taskId = el.dataset.taskId; mapIndex = el.dataset.mapIndex !== undefined ? Number(el.dataset.mapIndex) : null;
    }
    window.UpdraftTiPanel.open(dagId, picker.value, taskId, mapIndex);
  });

  function runLabel(r) { return `${U.fmtDate(r.run_after)} \u00B7 ${r.run_id} (${r.state})`; }

  async function loadRuns() {
    const answer = await U.api("GET", `/ui/runs/${U.enc(dagId)}?limit=50`);
    const runs = answer.runs;
    if (chosenRun && !runs.some((r) => r.run_id === chosenRun)) runs.unshift({ run_id: chosenRun, state: "?", run_after: null });
    const current = chosenRun || (runs[0] && runs[0].run_id) || "";
    picker.innerHTML = runs.length
      ? runs.map((r) => `<option value="${U.esc(r.run_id)}" ${r.run_id === current ? "selected" : ""}>${U.esc(runLabel(r))}</option>`).join("")
      : '<option value="">No runs yet</option>';
  }

  async function load() {
    const runId = picker.value;
    if (!runId) { holder.innerHTML = '<p class="muted">This DAG has no runs yet.</p>'; return 10000; }
    try {
      data = await U.api("GET", `/ui/gantt/${U.enc(dagId)}/${U.enc(runId)}`);
    } catch (e) {
      holder.innerHTML = `<p class="error">${U.esc(e.message)}</p>`;
      return 10000;
    }
    skew = new Date(data.now).getTime() - Date.now();
    render();
    const option = picker.selectedOptions[0];
    if (option) option.textContent = runLabel(data.run);
    if (window.UpdraftTiPanel) window.UpdraftTiPanel.refreshIfOpen();
    return FINISHED_RUN.has(data.run.state) ? 10000 : 2000;
  }

  let tick = 0;
  async function refresh() {
    if ((++tick % 6 === 0 || !picker.value) && !chosenRun) await loadRuns();
    return load();
  }

  document.getElementById("run-details").addEventListener("click", () => {
    if (picker.value) window.UpdraftTiPanel.openRun(dagId, picker.value);
  });
  picker.addEventListener("change", () => {
    chosenRun = picker.value;
    history.replaceState(null, "", `?tab=gantt&run_id=${U.enc(chosenRun)}`);
    load();
  });
  showTries.addEventListener("change", () => { if (data) render(); });
  document.addEventListener("updraft:changed", () => load());
  // Redraw to the new width when the window or the task panel changes the space left.
  let drawnWidth = 0, resizeTimer = null;
  new ResizeObserver(() => {
    if (!data || Math.abs(holder.clientWidth - drawnWidth) < 4) return;
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(render, 100);
  }).observe(holder);
  document.getElementById("gantt-legend").innerHTML =
    STATES.map((s) => `<span data-state="${s}"><i></i>${s.replace(/_/g, " ")}</span>`).join("") +
    '<span data-state="queued"><i style="opacity:.35"></i>waiting in the queue</span>' +
    '<span data-state="failed"><i style="opacity:.45"></i>earlier try</span>';

  (async () => {
    try { await loadRuns(); } catch (e) { holder.innerHTML = `<p class="error">${U.esc(e.message)}</p>`; return; }
    U.poll(refresh, 2000);
  })();
})();
