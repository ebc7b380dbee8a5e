/* The Durations tab: the recent runs' durations (bars coloured by run state), and below each
   task's duration over the same runs: one task as bars coloured by its state, or all tasks as
   lines. The y axis picks seconds, minutes or hours from the longest value. */
"use strict";
(function () {
  const U = window.Updraft;
  const root = document.getElementById("durations-view");
  const dagId = root.dataset.dagId;
  const runsBox = document.getElementById("dur-runs"), tasksBox = document.getElementById("dur-tasks");
  const limitSelect = document.getElementById("dur-limit"), taskSelect = document.getElementById("dur-task");
  const statusEl = document.getElementById("dur-status"), tip = document.getElementById("chart-tip");
  const H = 220, LEFT = 56, RIGHT = 12, TOP = 10, BOTTOM = 44;
  const PALETTE = ["#2463c7", "#d23f3f", "#2e9e4f", "#e6b422", "#9c7fe0", "#f08a24", "#3ebfbf", "#e58fd0", "#66717f", "#7a5230"];
  const STATES = ["success", "failed", "running", "queued", "upstream_failed", "skipped"];
  let data = null;
  const tips = [];   // what each [data-tip] element describes

  /* The unit and a "nice" tick step for values up to `max` seconds. */
  function scaleFor(max) {
    const unit = max < 120 ? { name: "s", div: 1 } : max < 7200 ? { name: "min", div: 60 } : { name: "h", div: 3600 };
    const top = Math.max(max / unit.div, 1e-3), raw = top / 4, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => top / s <= 5);
    return { unit, step, top: Math.ceil(top / step) * step };
  }

  function fmtTick(v) { return Number.isInteger(v) ? String(v) : v.toFixed(v < 1 ? 2 : 1).replace(/\.?0+$/, ""); }

  function shortDate(v) {
    const d = v ? new Date(v) : null;
    if (!d || isNaN(d)) return "";
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  /* Axes and grid for n runs and a maximum in seconds; returns the x of run i's slot and y(v). */
  function frame(width, n, maxSeconds, parts) {
    const s = scaleFor(maxSeconds), plotW = width - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
    const y = (seconds) => TOP + plotH - (seconds / s.unit.div / s.top) * plotH;
    for (let v = 0; v <= s.top + 1e-9; v += s.step) {
      const yy = TOP + plotH - (v / s.top) * plotH;
      parts.push(`<line class="gridline" x1="${LEFT}" x2="${width - RIGHT}" y1="${yy}" y2="${yy}"/>` +
        `<text class="axis" x="${LEFT - 6}" y="${yy + 4}" text-anchor="end">${fmtTick(v)} ${s.unit.name}</text>`);
    }
    const slot = plotW / Math.max(1, n);
    const every = Math.max(1, Math.ceil(80 / slot));
    data.runs.forEach((r, i) => {
      if (i % every) return;
      parts.push(`<text class="axis" x="${LEFT + slot * (i + 0.5)}" y="${H - BOTTOM + 16}" text-anchor="middle">${U.esc(shortDate(r.run_after))}</text>`);
    });
    parts.push(`<line class="axis-line" x1="${LEFT}" x2="${width - RIGHT}" y1="${TOP + plotH}" y2="${TOP + plotH}" stroke="#c5ced8"/>`);
    return { slot, y, x: (i) => LEFT + slot * (i + 0.5) };
  }

  function addTip(text) { tips.push(text); return tips.length - 1; }

  function drawRuns() {
    const runs = data.runs, width = Math.max(360, runsBox.clientWidth - 20);
    if (!runs.length) { runsBox.innerHTML = '<p class="muted">This DAG has no runs yet.</p>'; return; }
    const parts = [];
    const f = frame(width, runs.length, Math.max(1, ...runs.map((r) => r.duration || 0)), parts);
    const barW = Math.max(2, Math.min(36, f.slot * 0.7));
    runs.forEach((r, i) => {
      if (r.duration === null) return;
      const top = f.y(r.duration), bottom = f.y(0);
      const text = `${r.run_id}\n${r.state}${r.running ? " (still running)" : ""}\nran ${U.fmtDuration(r.duration)}` +
        (r.queued_duration ? `\nqueued ${U.fmtDuration(r.queued_duration)} before` : "") + `\nstarted ${U.fmtDate(r.start_date)}`;
      parts.push(`<rect class="bar" data-tip="${addTip(text)}" data-run-id="${U.esc(r.run_id)}" data-state="${U.esc(r.state)}" x="${f.x(i) - barW / 2}" y="${top}" width="${barW}" height="${Math.max(1, bottom - top)}" rx="2"/>`);
    });
    runsBox.innerHTML = `<svg width="${width}" height="${H}">${parts.join("")}</svg>`;
  }

  function drawTasks() {
    const width = Math.max(360, tasksBox.clientWidth - 20), runs = data.runs, chosen = taskSelect.value;
    if (!runs.length) { tasksBox.innerHTML = ""; return; }
    const tasks = chosen ? data.tasks.filter((t) => t.id === chosen) : data.tasks;
    const max = Math.max(1, ...tasks.flatMap((t) => t.durations.map((d) => d || 0)));
    const parts = [];
    const f = frame(width, runs.length, max, parts);
    const label = (t, i) => `${t.id} in ${runs[i].run_id}\n${t.states[i] || "no status"}: ${U.fmtDuration(t.durations[i])}`;
    if (chosen && tasks.length) {
      const t = tasks[0], barW = Math.max(2, Math.min(36, f.slot * 0.7));
      t.durations.forEach((d, i) => {
        if (d === null) return;
        parts.push(`<rect class="bar" data-tip="${addTip(label(t, i))}" data-run-id="${U.esc(runs[i].run_id)}" data-state="${U.esc(t.states[i] || "")}" x="${f.x(i) - barW / 2}" y="${f.y(d)}" width="${barW}" height="${Math.max(1, f.y(0) - f.y(d))}" rx="2"/>`);
      });
    } else {
      tasks.forEach((t, k) => {
        const colour = PALETTE[k % PALETTE.length], tipId = addTip(t.id);
        let path = "", pen = false;
        t.durations.forEach((d, i) => {
          if (d === null) { pen = false; return; }
          path += `${pen ? "L" : "M"}${f.x(i)},${f.y(d)} `;
          pen = true;
        });
        if (path) parts.push(`<path class="series" data-series="${k}" data-tip="${tipId}" d="${path}" stroke="${colour}"/>`);
        t.durations.forEach((d, i) => {
          if (d !== null) parts.push(`<circle class="dot" data-series="${k}" data-tip="${addTip(label(t, i))}" cx="${f.x(i)}" cy="${f.y(d)}" r="3" fill="${colour}"/>`);
        });
      });
    }
    tasksBox.innerHTML = `<svg width="${width}" height="${H}">${parts.join("")}</svg>`;
    document.getElementById("dur-task-legend").innerHTML = chosen ? "" : tasks.length > 40
      ? '<span>Point at a line to see its task; pick a task above to see it alone.</span>'
      : tasks.map((t, k) => `<span><i style="--c:${PALETTE[k % PALETTE.length]}"></i>${U.esc(t.id)}</span>`).join("");
  }

  function draw() {
    tips.length = 0;
    drawRuns();
    drawTasks();
  }

  async function load() {
    try {
      data = await U.api("GET", `/ui/durations/${U.enc(dagId)}?limit=${limitSelect.value}`);
    } catch (e) {
      runsBox.innerHTML = `<p class="error">${U.esc(e.message)}</p>`;
      return 30000;
    }
    const current = taskSelect.value;
    taskSelect.innerHTML = '<option value="">All tasks</option>' +
      data.tasks.map((t) => `<option value="${U.esc(t.id)}" ${t.id === current ? "selected" : ""}>${U.esc(t.id)}</option>`).join("");
    draw();
    const running = data.runs.some((r) => r.running);
    statusEl.textContent = `${data.runs.length} run${data.runs.length === 1 ? "" : "s"}${running ? " \u00B7 updating while a run is running" : ""}`;
    return running ? 3000 : 30000;
  }

  function showTip(event) {
    const el = event.target.closest("[data-tip]");
    root.querySelectorAll(".series.hl").forEach((s) => s.classList.remove("hl"));
    if (!el) { tip.style.display = "none"; return; }
    if (el.dataset.series !== undefined) {
      const line = root.querySelector(`path.series[data-series="${el.dataset.series}"]`);
      if (line) line.classList.add("hl");
    }
    tip.textContent = tips[Number(el.dataset.tip)];
    tip.style.display = "block";
    tip.style.left = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8) + "px";
    tip.style.top = event.clientY + 14 + "px";
  }
  root.addEventListener("mousemove", showTip);
  root.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  root.addEventListener("click", (event) => {
    const bar = event.target.closest("[data-run-id]");
    if (bar) location.href = `/dags/${U.enc(dagId)}?tab=gantt&run_id=${U.enc(bar.dataset.runId)}`;
  });
  limitSelect.addEventListener("change", load);
  taskSelect.addEventListener("change", () => { if (data) { tips.length = 0; drawRuns(); drawTasks(); } });
  let drawnWidth = 0, timer = null;
  new ResizeObserver(() => {
    if (!data || Math.abs(runsBox.clientWidth - drawnWidth) < 4) return;
    drawnWidth = runsBox.clientWidth;
    clearTimeout(timer);
    timer = setTimeout(draw, 100);
  }).observe(runsBox);
  document.getElementById("dur-legend").innerHTML =
    STATES.map((s) => `<span data-state="${s}"><i></i>${s.replace(/_/g, " ")}</span>`).join("");
  U.poll(load, 30000);
})();
