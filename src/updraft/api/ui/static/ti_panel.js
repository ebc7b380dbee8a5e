/* The task-instance panel: facts, tries, rendered fields, XComs, the live log, clear and mark. */
"use strict";
(function () {
  const U = window.Updraft;
  const panel = document.getElementById("ti-panel");
  if (!panel) return;
  const view = document.getElementById("dag-view");
  const canLogs = view && view.dataset.canLogs === "true";
  const logEl = document.getElementById("ti-log");
  const UNFINISHED = new Set(["running", "queued", "scheduled", "up_for_retry", "up_for_reschedule", "deferred", "restarting", null, ""]);
  let current = null;   // {dagId, runId, taskId, mapIndex}
  let info = null;      // the last /ui/ti answer
  let log = { tryNumber: null, token: null, timer: null, key: "" };

  function base(c) {
    return `/api/v2/dags/${U.enc(c.dagId)}/dagRuns/${U.enc(c.runId)}/taskInstances/${U.enc(c.taskId)}`;
  }

  function fact(name, value) {
    return value === null || value === undefined || value === "" ? "" : `<dt>${U.esc(name)}</dt><dd>${value}</dd>`;
  }

  function renderInfo() {
    const ti = info.instance, task = info.task || {};
    document.getElementById("ti-title").textContent = info.task_id + (ti && ti.map_index >= 0 ? ` [${ti.map_index}]` : "");
    document.getElementById("ti-run").textContent = `Run ${info.run.run_id} (${info.run.state})`;
    const maps = document.getElementById("ti-map-indexes");
    maps.innerHTML = info.map_indexes.length
      ? `<div class="tries">${info.map_indexes.map((m) => `<button data-map-index="${m.map_index}" class="${ti && ti.map_index === m.map_index ? "selected" : ""}"><span class="state" data-state="${U.esc(m.state || "")}">&nbsp;</span> ${m.map_index}</button>`).join("")}</div>`
      : "";
    const facts = document.getElementById("ti-facts");
    if (!ti) {
      facts.innerHTML = fact("State", "no task instance in this run (the task was added later)") + fact("Operator", U.esc(task.operator));
    } else {
      facts.innerHTML = [
        fact("State", `<span class="state-badge" data-state="${U.esc(ti.state || "")}">${U.esc(ti.state || "no status")}</span>`),
        fact("Operator", U.esc(ti.operator || task.operator)),
        fact("Try", `${ti.try_number} of ${ti.max_tries + 1}`),
        fact("Trigger rule", U.esc(task.trigger_rule)),
        fact("Queued", U.esc(U.fmtDate(ti.queued_dttm))),
        fact("Started", U.esc(U.fmtDate(ti.start_date))),
        fact("Ended", U.esc(U.fmtDate(ti.end_date))),
        fact("Duration", U.esc(U.fmtDuration(ti.duration))),
        fact("CPU time", ti.cpu_time_s !== null ? U.esc(U.fmtDuration(ti.cpu_time_s)) : ""),
        fact("Peak memory", U.esc(U.fmtBytes(ti.peak_rss_bytes))),
        fact("Next retry", U.esc(U.fmtDate(ti.next_retry_at))),
        fact("Pool", U.esc(`${ti.pool} (${ti.pool_slots} slot${ti.pool_slots === 1 ? "" : "s"})`)),
        fact("Host", U.esc(ti.hostname ? `${ti.hostname} (pid ${ti.pid})` : "")),
        fact("Note", U.esc(ti.note)),
      ].join("");
    }
    const rendered = Object.entries(info.rendered_fields || {});
    document.getElementById("ti-rendered").innerHTML = rendered.length
      ? rendered.map(([k, v]) => `<div><strong>${U.esc(k)}</strong><pre class="code">${U.esc(typeof v === "string" ? v : JSON.stringify(v, null, 2))}</pre></div>`).join("")
      : '<p class="muted">None rendered yet.</p>';
    document.getElementById("ti-xcom").innerHTML = info.xcoms.length
      ? `<table class="list"><tr><th>Key</th><th>Value</th></tr>${info.xcoms.map((x) => `<tr><td class="mono">${U.esc(x.key)}</td><td><pre class="mono">${U.esc(JSON.stringify(x.value, null, 2))}</pre></td></tr>`).join("")}</table>`
      : '<p class="muted">No XComs.</p>';
    const tries = document.getElementById("ti-tries");
    tries.innerHTML = info.tries.map((t) =>
      `<button data-try="${t.try_number}" class="${t.try_number === log.tryNumber ? "selected" : ""}" title="${U.esc(t.state || "")}">
        <span class="state" data-state="${U.esc(t.state || "")}">&nbsp;</span> Try ${t.try_number}</button>`).join("");
  }

  function stopLog() { clearTimeout(log.timer); log.timer = null; }

  async function readLog() {
    if (!current || log.tryNumber === null || !canLogs) return;
    const key = log.key;
    const q = new URLSearchParams();
    if (current.mapIndex !== null && current.mapIndex >= 0) q.set("map_index", current.mapIndex);
    if (log.token) q.set("token", log.token);
    try {
      const answer = await U.api("GET", `${base(current)}/logs/${log.tryNumber}?${q}`);
      if (key !== log.key) return;  // another try or instance was opened meanwhile
      if (answer.content.length) {
        const atBottom = logEl.scrollTop + logEl.clientHeight >= logEl.scrollHeight - 4;
        logEl.textContent += answer.content.join("\n") + "\n";
        if (atBottom) logEl.scrollTop = logEl.scrollHeight;
      }
      log.token = answer.continuation_token;
    } catch (e) {
      if (key === log.key && !logEl.textContent) logEl.textContent = e.message;
    }
    const ti = info && info.instance;
    const live = ti && log.tryNumber === ti.try_number && UNFINISHED.has(ti.state);
    if (key === log.key && live) log.timer = setTimeout(readLog, 1000);
  }

  function showTry(tryNumber) {
    stopLog();
    log = { tryNumber, token: null, timer: null, key: `${current.dagId}|${current.runId}|${current.taskId}|${current.mapIndex}|${tryNumber}|${Date.now()}` };
    logEl.textContent = "";
    panel.querySelectorAll("#ti-tries button").forEach((b) => b.classList.toggle("selected", Number(b.dataset.try) === tryNumber));
    if (!canLogs) { logEl.textContent = "You may not read logs."; return; }
    readLog();
  }

  async function fetchInfo() {
    const q = current.mapIndex !== null ? `?map_index=${current.mapIndex}` : "";
    return U.api("GET", `/ui/ti/${U.enc(current.dagId)}/${U.enc(current.runId)}/${U.enc(current.taskId)}${q}`);
  }

  function showSection(which) {
    document.getElementById("run-section").hidden = which !== "run";
    document.getElementById("ti-section").hidden = which !== "ti";
  }

  /* The run panel: facts about one run and the run-wide actions (clear, mark). */
  let currentRun = null;
  async function openRun(dagId, runId) {
    stopLog();
    current = null;
    currentRun = { dagId, runId };
    panel.hidden = false;
    showSection("run");
    const url = `/api/v2/dags/${U.enc(dagId)}/dagRuns/${U.enc(runId)}`;
    let run;
    try { run = await U.api("GET", url); } catch (e) { U.toast(e.message, true); return; }
    document.getElementById("run-title").textContent = `Run ${run.dag_run_id}`;
    const duration = run.start_date && run.end_date ? (new Date(run.end_date) - new Date(run.start_date)) / 1000 : null;
    document.getElementById("run-facts").innerHTML = [
      fact("State", `<span class="state-badge" data-state="${U.esc(run.state)}">${U.esc(run.state)}</span>`),
      fact("Run type", U.esc(run.run_type)),
      fact("Triggered by", U.esc(run.triggered_by)),
      fact("Logical date", U.esc(U.fmtDate(run.logical_date))),
      fact("Run after", U.esc(U.fmtDate(run.run_after))),
      fact("Queued", U.esc(U.fmtDate(run.queued_at))),
      fact("Started", U.esc(U.fmtDate(run.start_date))),
      fact("Ended", U.esc(U.fmtDate(run.end_date))),
      fact("Duration", U.esc(U.fmtDuration(duration))),
      fact("Conf", `<pre class="mono">${U.esc(JSON.stringify(run.conf || {}, null, 2))}</pre>`),
      fact("Note", U.esc(run.note)),
    ].join("");
  }

  async function runTaskInstances() {
    const url = `/api/v2/dags/${U.enc(currentRun.dagId)}/dagRuns/${U.enc(currentRun.runId)}/taskInstances?limit=1000`;
    return (await U.api("GET", url)).task_instances;
  }

  async function clearRun() {
    const url = `/api/v2/dags/${U.enc(currentRun.dagId)}/dagRuns/${U.enc(currentRun.runId)}/clear`;
    const onlyFailed = document.getElementById("run-opt-failed").checked;
    try {
      const preview = await U.api("POST", url, { dry_run: true, only_failed: onlyFailed });
      if (!preview.task_instances.length) { U.toast("Nothing to clear."); return; }
      const ok = await U.confirm(`Clear ${preview.task_instances.length} task instance${preview.task_instances.length === 1 ? "" : "s"} of this run?`,
        "The run goes back to queued and they run again.", describe(preview.task_instances));
      if (!ok) return;
      await U.api("POST", url, { dry_run: false, only_failed: onlyFailed });
      U.toast("Run cleared.");
      document.dispatchEvent(new Event("updraft:changed"));
      openRun(currentRun.dagId, currentRun.runId);
    } catch (e) { U.toast(e.message, true); }
  }

  async function markRun(state) {
    const FINAL = new Set(["success", "failed", "skipped", "upstream_failed", "removed"]);
    try {
      const tis = (await runTaskInstances()).filter((t) => !FINAL.has(t.state));
      const items = tis.map((t) => {
        const next = state === "success" ? "success" : (t.state === "running" ? "failed" : "skipped");
        return `${t.task_id}${t.map_index >= 0 ? ` [${t.map_index}]` : ""}: ${t.state || "no status"} → ${next}`;
      });
      const ok = await U.confirm(`Mark run ${currentRun.runId} ${state}?`,
        items.length ? "These unfinished task instances change too:" : "Every task instance has finished; only the run changes.", items);
      if (!ok) return;
      await U.api("PATCH", `/api/v2/dags/${U.enc(currentRun.dagId)}/dagRuns/${U.enc(currentRun.runId)}`, { state });
      U.toast(`Run marked ${state}.`);
      document.dispatchEvent(new Event("updraft:changed"));
      openRun(currentRun.dagId, currentRun.runId);
    } catch (e) { U.toast(e.message, true); }
  }

  async function open(dagId, runId, taskId, mapIndex) {
    currentRun = null;
    showSection("ti");
    current = { dagId, runId, taskId, mapIndex };
    panel.hidden = false;
    stopLog();
    logEl.textContent = "";
    try {
      info = await fetchInfo();
    } catch (e) {
      U.toast(e.message, true);
      return;
    }
    if (info.instance) current.mapIndex = info.instance.map_index;
    log.tryNumber = null;
    renderInfo();
    const last = info.tries.length ? info.tries[info.tries.length - 1].try_number : null;
    if (last !== null) showTry(last); else logEl.textContent = "No tries yet.";
  }

  /* Called by the grid after each poll: refresh facts; follow a new try if the latest was shown. */
  async function refreshIfOpen() {
    if (!current || panel.hidden) return;
    const before = info;
    try { info = await fetchInfo(); } catch (e) { return; }
    const wasLatest = before && before.instance && log.tryNumber === before.instance.try_number;
    const latest = info.instance ? info.instance.try_number : null;
    const changed = JSON.stringify(before) !== JSON.stringify(info);
    if (changed) renderInfo();
    if (latest && (log.tryNumber === null || (wasLatest && latest !== log.tryNumber))) showTry(latest);
    else if (changed && !log.timer && log.tryNumber === latest) readLog();
  }

  function options() {
    const on = (id) => { const el = document.getElementById(id); return !!(el && el.checked); };
    return { downstream: on("ti-opt-downstream"), upstream: on("ti-opt-upstream"), past: on("ti-opt-past"), future: on("ti-opt-future"), onlyFailed: on("ti-opt-failed"), recursive: on("ti-opt-recursive") };
  }

  function describe(tis) {
    const here = (current || currentRun || {}).dagId;
    return tis.map((t) => `${t.dag_id && t.dag_id !== here ? `${t.dag_id}.` : ""}${t.task_id}${t.map_index >= 0 ? ` [${t.map_index}]` : ""} · ${t.dag_run_id} (${t.state || "no status"})`);
  }

  async function clearTask() {
    const o = options();
    const body = {
      dag_run_id: current.runId, task_ids: [current.taskId], include_downstream: o.downstream,
      include_upstream: o.upstream, include_past: o.past, include_future: o.future, only_failed: o.onlyFailed,
      include_downstream_dags: o.recursive,
    };
    const url = `/api/v2/dags/${U.enc(current.dagId)}/clearTaskInstances`;
    try {
      const preview = await U.api("POST", url, Object.assign({ dry_run: true }, body));
      if (!preview.task_instances.length) { U.toast("Nothing to clear with these options."); return; }
      const ok = await U.confirm(`Clear ${preview.total_entries} task instance${preview.total_entries === 1 ? "" : "s"}?`,
        "They will run again.", describe(preview.task_instances));
      if (!ok) return;
      await U.api("POST", url, Object.assign({ dry_run: false }, body));
      U.toast("Cleared; the scheduler will run them again.");
      document.dispatchEvent(new Event("updraft:changed"));
    } catch (e) { U.toast(e.message, true); }
  }

  async function mark(state) {
    const o = options();
    const q = new URLSearchParams({ state, upstream: o.upstream, downstream: o.downstream });
    if (current.mapIndex !== null) q.set("map_index", current.mapIndex);
    try {
      const preview = await U.api("GET", `/ui/mark-preview/${U.enc(current.dagId)}/${U.enc(current.runId)}/${U.enc(current.taskId)}?${q}`);
      if (!preview.task_instances.length) { U.toast(`Nothing to mark: already ${state}.`); return; }
      const ok = await U.confirm(`Mark ${preview.task_instances.length} task instance${preview.task_instances.length === 1 ? "" : "s"} ${state}?`,
        "", describe(preview.task_instances));
      if (!ok) return;
      const suffix = current.mapIndex !== null && current.mapIndex >= 0 ? `/${current.mapIndex}` : "";
      await U.api("PATCH", `${base(current)}${suffix}`, { new_state: state, include_upstream: o.upstream, include_downstream: o.downstream });
      U.toast(`Marked ${state}.`);
      document.dispatchEvent(new Event("updraft:changed"));
    } catch (e) { U.toast(e.message, true); }
  }

  panel.addEventListener("click", (event) => {
    const tryButton = event.target.closest("[data-try]");
    if (tryButton) { showTry(Number(tryButton.dataset.try)); return; }
    const mapButton = event.target.closest("[data-map-index]");
    if (mapButton) { open(current.dagId, current.runId, current.taskId, Number(mapButton.dataset.mapIndex)); return; }
    const id = event.target.closest("button") && event.target.closest("button").id;
    if (id === "ti-close") { panel.hidden = true; stopLog(); current = null; currentRun = null; }
    else if (id === "run-clear") clearRun();
    else if (id === "run-mark-success") markRun("success");
    else if (id === "run-mark-failed") markRun("failed");
    else if (id === "ti-clear") clearTask();
    else if (id === "ti-mark-success") mark("success");
    else if (id === "ti-mark-failed") mark("failed");
  });

  window.UpdraftTiPanel = { open, openRun, refreshIfOpen };
})();
