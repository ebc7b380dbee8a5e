/* The Grid tab: runs as columns, tasks as rows (grouped), one cell per task instance.
   Polls /ui/grid with an ETag; when only states changed, only the changed cells are touched. */
"use strict";
(function () {
  const U = window.Updraft;
  const view = document.getElementById("dag-view");
  const holder = document.getElementById("grid");
  const dagId = view.dataset.dagId;
  const STATES = ["success", "running", "queued", "scheduled", "failed", "upstream_failed", "up_for_retry",
    "up_for_reschedule", "skipped", "deferred", "restarting", "removed"];
  const FINISHED = new Set(["success", "failed", "skipped", "upstream_failed", "removed"]);
  const collapsedKey = `updraft.grid.collapsed.${dagId}`;
  let collapsed = new Set(JSON.parse(localStorage.getItem(collapsedKey) || "[]"));
  let etag = null, data = null, shapeKey = "", cells = [], bars = [];
  let selected = { runId: view.dataset.runId || null, taskId: null };
  const limitSelect = document.getElementById("grid-limit");
  const limitKey = "updraft.grid.runs";
  const wanted = new URLSearchParams(location.search).get("runs") || localStorage.getItem(limitKey);
  if (wanted && [...limitSelect.options].some((o) => o.value === wanted)) limitSelect.value = wanted;

  document.getElementById("grid-legend").innerHTML =
    STATES.map((s) => `<span data-state="${s}"><i></i>${s.replace(/_/g, " ")}</span>`).join("") +
    '<span><i style="--c:#fff;border:1px solid #ccc"></i>no status</span>';

  function runTitle(run) {
    const d = run.start_date && run.end_date ? (new Date(run.end_date) - new Date(run.start_date)) / 1000 : null;
    return `${run.run_id}\n${run.state} · ${run.run_type}\nrun after ${U.fmtDate(run.run_after)}` +
      (d !== null ? `\nduration ${U.fmtDuration(d)}` : "");
  }

  function isHidden(row, byId) {
    let parent = row.parent;
    while (parent) {
      if (collapsed.has(parent)) return true;
      parent = (byId[parent] || {}).parent;
    }
    return false;
  }

  function render() {
    performance.mark("grid-render-start");
    const runs = data.runs, rows = data.rows;
    if (!rows.length) { holder.innerHTML = '<p class="muted">This DAG has no tasks.</p>'; return; }
    const durations = runs.map((r) => r.start_date ? ((r.end_date ? new Date(r.end_date) : new Date()) - new Date(r.start_date)) / 1000 : 0);
    const longest = Math.max(1, ...durations);
    const byId = {};
    rows.forEach((r) => { if (r.group) byId[r.id] = r; });
    const head = runs.map((r, i) =>
      `<th class="run"><span class="bar" data-run="${i}" data-state="${U.esc(r.state)}" title="${U.esc(runTitle(r))}"
        style="height:${Math.max(4, Math.round((durations[i] / longest) * 60))}px"></span></th>`).join("");
    const runIds = runs.map((r) => U.esc(r.run_id));
    const parts = [`<table class="grid"><thead><tr><th></th>${head}</tr></thead><tbody>`];
    rows.forEach((row, ri) => {
      const pad = 0.3 + row.depth * 1.1;
      const name = row.group
        ? `<td class="name group" data-group="${U.esc(row.id)}" style="padding-left:${pad}em">${collapsed.has(row.id) ? "&#9656;" : "&#9662;"} ${U.esc(row.label)}</td>`
        : `<td class="name" style="padding-left:${pad + 1}em" title="${U.esc(row.id)} (${U.esc(row.operator || "")})">${U.esc(row.label)}${row.mapped ? " [ ]" : ""}</td>`;
      const group = row.group ? ' data-group="1"' : "";
      const taskAttr = U.esc(row.id);
      const tds = row.states.map((s, ci) =>
        `<td class="c"><i data-r="${ri}" data-c="${ci}" data-run-id="${runIds[ci]}" data-task-id="${taskAttr}"${group} data-state="${s || ""}"></i></td>`).join("");
      parts.push(`<tr data-row="${ri}"${isHidden(row, byId) ? ' class="hidden"' : ""}>${name}${tds}</tr>`);
    });
    parts.push("</tbody></table>");
    holder.innerHTML = parts.join("");
    const all = holder.getElementsByTagName("i");
    cells = rows.map(() => []);
    for (let k = 0; k < all.length; k++) {
      const el = all[k];
      if (el.dataset.r !== undefined) cells[Number(el.dataset.r)].push(el);
    }
    bars = Array.from(holder.querySelectorAll(".bar"));
    markSelection();
    performance.measure("grid-render", "grid-render-start");
  }

  /* Same runs and rows as on screen: update what changed, in place. */
  function patch(next) {
    next.rows.forEach((row, ri) => {
      row.states.forEach((s, ci) => {
        const el = cells[ri][ci], value = s || "";
        if (el.dataset.state !== value) el.dataset.state = value;
      });
    });
    next.runs.forEach((r, i) => { bars[i].dataset.state = r.state; bars[i].title = runTitle(r); });
    data = next;
  }

  function markSelection() {
    holder.querySelectorAll(".sel").forEach((el) => el.classList.remove("sel"));
    if (!data) return;
    const ci = data.runs.findIndex((r) => r.run_id === selected.runId);
    if (ci >= 0 && bars[ci]) bars[ci].classList.add("sel");
    if (ci >= 0 && selected.taskId) {
      const ri = data.rows.findIndex((r) => r.id === selected.taskId);
      if (ri >= 0) cells[ri][ci].classList.add("sel");
    }
  }

  function unfinished() {
    if (!data) return true;
    return data.runs.some((r) => !["success", "failed"].includes(r.state)) ||
      data.rows.some((row) => row.states.some((s) => s && !FINISHED.has(s)));
  }

  async function load() {
    const headers = { Accept: "application/json" };
    if (etag) headers["If-None-Match"] = etag;
    const response = await fetch(`/ui/grid/${U.enc(dagId)}?limit=${limitSelect.value}`, { headers, credentials: "same-origin" });
    if (response.status === 401) { location.href = "/auth/login?next=" + encodeURIComponent(location.pathname + location.search); return 60000; }
    if (response.status === 304) return unfinished() ? 1500 : 8000;
    if (!response.ok) { document.getElementById("grid-status").textContent = `Could not load the grid (${response.status})`; return 8000; }
    etag = response.headers.get("ETag");
    const next = await response.json();
    const key = JSON.stringify([next.version, next.runs.map((r) => r.run_id), next.rows.map((r) => r.id)]);
    if (key === shapeKey && data) {
      patch(next);
    } else {
      shapeKey = key;
      data = next;
      render();
    }
    document.getElementById("grid-status").textContent = `${data.runs.length} run${data.runs.length === 1 ? "" : "s"}, ${data.rows.filter((r) => !r.group).length} tasks`;
    if (window.UpdraftTiPanel) window.UpdraftTiPanel.refreshIfOpen();
    return unfinished() ? 1500 : 8000;
  }

  function setCollapsed(ids, on) {
    ids.forEach((id) => (on ? collapsed.add(id) : collapsed.delete(id)));
    localStorage.setItem(collapsedKey, JSON.stringify([...collapsed]));
    if (data) render();
  }

  /* Tooltips are made on hover: 25,000 title attributes would slow the first render. */
  holder.addEventListener("mouseover", (event) => {
    const cell = event.target.closest("i[data-r]");
    if (!cell || !data) return;
    const row = data.rows[Number(cell.dataset.r)], ci = Number(cell.dataset.c), run = data.runs[ci];
    const count = row.counts ? ` · ${row.counts[ci]} mapped` : "";
    cell.title = `${row.id}\n${row.states[ci] || "no status"}${count}\n${run.run_id}`;
  });
  holder.addEventListener("click", (event) => {
    const group = event.target.closest("td.group");
    if (group) { setCollapsed([group.dataset.group], !collapsed.has(group.dataset.group)); return; }
    const bar = event.target.closest(".bar");
    if (bar) {
      const run = data.runs[Number(bar.dataset.run)];
      selected = { runId: run.run_id, taskId: null };
      history.replaceState(null, "", `?run_id=${U.enc(run.run_id)}`);
      markSelection();
      window.UpdraftTiPanel.openRun(dagId, run.run_id);
      return;
    }
    const cell = event.target.closest("i[data-task-id]");
    if (!cell) return;
    if (cell.dataset.group) { setCollapsed([cell.dataset.taskId], !collapsed.has(cell.dataset.taskId)); return; }
    const row = data.rows[Number(cell.dataset.r)];
    selected = { runId: cell.dataset.runId, taskId: cell.dataset.taskId };
    history.replaceState(null, "", `?run_id=${U.enc(selected.runId)}&task_id=${U.enc(selected.taskId)}`);
    markSelection();
    window.UpdraftTiPanel.open(dagId, selected.runId, selected.taskId, row.mapped ? null : -1);
  });
  document.getElementById("grid-expand").addEventListener("click", () => setCollapsed([...collapsed], false));
  document.getElementById("grid-collapse").addEventListener("click", () =>
    setCollapsed(data ? data.rows.filter((r) => r.group).map((r) => r.id) : [], true));
  limitSelect.addEventListener("change", () => {
    localStorage.setItem(limitKey, limitSelect.value);
    etag = null; shapeKey = ""; poller.now();
  });
  const poller = U.poll(load, 1500);
  document.addEventListener("updraft:changed", () => { etag = null; poller.now(); });
  const initialTask = new URLSearchParams(location.search).get("task_id");
  if (initialTask && selected.runId) {
    selected.taskId = initialTask;
    window.addEventListener("load", () => window.UpdraftTiPanel.open(dagId, selected.runId, initialTask, null));
  }
})();
