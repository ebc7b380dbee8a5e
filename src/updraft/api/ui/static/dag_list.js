/* The DAG list: filters in the URL, rows refreshed every few seconds, pause toggles. */
"use strict";
(function () {
  const U = window.Updraft;
  const table = document.getElementById("dag-list");
  const body = table.querySelector("tbody");
  const canPause = table.dataset.canPause === "true";
  const params = new URLSearchParams(location.search);
  const state = {
    search: params.get("search") || "",
    status: params.get("status") || "all",
    tags: params.getAll("tags"),
    offset: Number(params.get("offset") || 0),
    limit: 100,
  };
  const search = document.getElementById("dag-search");
  const status = document.getElementById("dag-status");
  search.value = state.search;
  status.value = state.status;
  let lastJson = "";

  function query() {
    const q = new URLSearchParams();
    if (state.search) q.set("search", state.search);
    if (state.status !== "all") q.set("status", state.status);
    state.tags.forEach((t) => q.append("tags", t));
    if (state.offset) q.set("offset", state.offset);
    return q;
  }

  function syncUrl() {
    const q = query().toString();
    history.replaceState(null, "", q ? `/?${q}` : "/");
  }

  function runCounts(counts) {
    return ["success", "running", "queued", "failed"]
      .filter((s) => counts[s])
      .map((s) => `<span class="state" data-state="${s}" title="${counts[s]} ${s} of the recent runs">${counts[s]}</span>`)
      .join(" ");
  }

  function row(dag) {
    const id = U.esc(dag.dag_id);
    const toggle = `<label class="switch" title="${dag.is_paused ? "Paused: click to unpause" : "Active: click to pause"}">
      <input type="checkbox" class="pause-toggle" aria-label="${id} is active (not paused)" data-dag-id="${id}" ${dag.is_paused ? "" : "checked"} ${canPause ? "" : "disabled"}>
      <span></span></label>`;
    const tags = dag.tags.map((t) => `<span class="tag" data-tag="${U.esc(t)}">${U.esc(t)}</span>`).join("");
    const last = dag.last_run
      ? `<a href="/dags/${U.enc(dag.dag_id)}?run_id=${U.enc(dag.last_run.run_id)}"><span class="state-badge" data-state="${U.esc(dag.last_run.state)}">${U.esc(dag.last_run.state)}</span></a>
         <span class="muted">${U.fmtDate(dag.last_run.run_after)}</span>`
      : '<span class="muted">never</span>';
    const next = dag.is_paused || !dag.next_run ? "" : U.fmtDate(dag.next_run);
    const warn = dag.has_import_errors ? ' <span class="error" title="Its file has an import error">&#9888;</span>' : "";
    return `<tr data-dag-id="${id}">
      <td>${toggle}</td>
      <td><a class="dag-link" href="/dags/${U.enc(dag.dag_id)}">${id}</a>${warn}<div>${tags}</div>
        ${dag.description ? `<div class="muted">${U.esc(dag.description)}</div>` : ""}</td>
      <td>${U.esc(dag.owners.join(", "))}</td>
      <td><span title="${U.esc(dag.schedule)}">${U.esc(dag.schedule_description || dag.schedule || "")}</span></td>
      <td>${runCounts(dag.recent_runs)}</td>
      <td>${last}</td>
      <td>${next}</td></tr>`;
  }

  function renderErrors(errors) {
    const banner = document.getElementById("import-errors");
    if (!errors || !errors.length) { banner.hidden = true; return; }
    banner.hidden = false;
    banner.innerHTML = `<strong>${errors.length} DAG file${errors.length > 1 ? "s" : ""} could not be loaded</strong>` +
      errors.map((e) => `<details><summary class="mono">${U.esc(e.filename)}</summary><pre>${U.esc(e.stacktrace)}</pre></details>`).join("");
  }

  function renderTags(all) {
    const holder = document.getElementById("tag-filter");
    holder.innerHTML = all.map((t) => `<span class="tag ${state.tags.includes(t) ? "selected" : ""}" data-tag="${U.esc(t)}">${U.esc(t)}</span>`).join("");
  }

  function renderPager(total) {
    const pager = document.getElementById("pager");
    if (total <= state.limit) { pager.innerHTML = ""; return; }
    const page = Math.floor(state.offset / state.limit) + 1, pages = Math.ceil(total / state.limit);
    pager.innerHTML = `<button data-move="-1" ${page === 1 ? "disabled" : ""}>Previous</button>
      <span>Page ${page} of ${pages}</span><button data-move="1" ${page === pages ? "disabled" : ""}>Next</button>`;
  }

  async function load() {
    const data = await U.api("GET", `/ui/dags?${query().toString()}&limit=${state.limit}`);
    const json = JSON.stringify(data);
    if (json === lastJson) return;
    lastJson = json;
    body.innerHTML = data.dags.length ? data.dags.map(row).join("") : '<tr><td colspan="7" class="muted">No DAGs match.</td></tr>';
    document.getElementById("dag-count").textContent = `${data.total_entries} DAG${data.total_entries === 1 ? "" : "s"}`;
    renderTags(data.tags);
    renderErrors(data.import_errors);
    renderPager(data.total_entries);
  }

  function reload() { syncUrl(); lastJson = ""; load(); }

  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.search = search.value.trim(); state.offset = 0; reload(); }, 200);
  });
  status.addEventListener("change", () => { state.status = status.value; state.offset = 0; reload(); });
  document.addEventListener("click", (event) => {
    const tag = event.target.closest(".tag[data-tag]");
    if (tag) {
      const name = tag.dataset.tag;
      state.tags = state.tags.includes(name) ? state.tags.filter((t) => t !== name) : [...state.tags, name];
      state.offset = 0;
      reload();
      return;
    }
    const move = event.target.closest("[data-move]");
    if (move) { state.offset = Math.max(0, state.offset + Number(move.dataset.move) * state.limit); reload(); }
  });
  body.addEventListener("change", async (event) => {
    const box = event.target.closest(".pause-toggle");
    if (!box) return;
    const paused = !box.checked;
    box.disabled = true;
    try {
      await U.api("PATCH", `/api/v2/dags/${U.enc(box.dataset.dagId)}`, { is_paused: paused });
      U.toast(`${box.dataset.dagId} ${paused ? "paused" : "unpaused"}`);
    } catch (e) {
      box.checked = paused;
      U.toast(e.message, true);
    } finally {
      box.disabled = false;
      lastJson = "";
    }
  });
  U.poll(load, 5000);
})();
