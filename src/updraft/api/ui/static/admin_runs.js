/* /runs: the runs of every DAG, newest first, filtered by DAG, state and run type; refreshed
   every few seconds while the page is visible. */
"use strict";
(function () {
  const U = window.Updraft, A = window.UpdraftAdmin;
  const state = A.urlState({ dag_id: "", state: "", run_type: "" });

  const list = A.listView({
    table: document.getElementById("list"), state, noun: "run",
    filtered: () => Boolean(state.dag_id || state.state || state.run_type),
    pagerLabels: ["Newer", "Older"],
    key: (r) => `${r.dag_id} ${r.dag_run_id}`,
    async load(offset, limit) {
      const q = A.query({ limit, offset, order_by: ["-run_after", "-id"], state: state.state, run_type: state.run_type });
      const dag = state.dag_id ? U.enc(state.dag_id) : "~";
      const data = await U.api("GET", `/api/v2/dags/${dag}/dagRuns?${q}`);
      return { items: data.dag_runs, total: data.total_entries };
    },
    row(r) {
      const href = `/dags/${U.enc(r.dag_id)}?run_id=${U.enc(r.dag_run_id)}`;
      return `<tr data-key="${U.esc(`${r.dag_id} ${r.dag_run_id}`)}">
        <td><a href="/dags/${U.enc(r.dag_id)}">${U.esc(r.dag_id)}</a></td>
        <td><a class="mono" href="${href}">${U.esc(r.dag_run_id)}</a></td>
        <td><span class="state-badge" data-state="${U.esc(r.state)}">${U.esc(r.state)}</span></td>
        <td>${U.esc(r.run_type)}</td>
        <td class="nowrap">${U.fmtDate(r.run_after)}</td><td class="nowrap">${U.fmtDate(r.start_date)}</td>
        <td class="nowrap">${U.fmtDate(r.end_date)}</td><td class="num">${U.fmtDuration(r.duration)}</td>
        <td>${U.esc(r.triggered_by)}</td></tr>`;
    },
  });

  A.bindFilterForm(document.getElementById("filters"), state, list);
  A.suggestDagIds(document.getElementById("dag-ids"));
  U.poll(() => list.refresh(), 5000);
})();
