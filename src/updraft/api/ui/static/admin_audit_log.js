/* /audit-log: the API's event log, newest first, with filters in the URL and paging. */
"use strict";
(function () {
  const U = window.Updraft, A = window.UpdraftAdmin;
  const state = A.urlState({ owner: "", event: "", dag_id: "", after: "", before: "" });
  const table = document.getElementById("list");
  const filtered = () => ["owner", "event", "dag_id", "after", "before"].some((k) => state[k]);

  function where(e) {
    const parts = [];
    if (e.dag_id) parts.push(`<a href="/dags/${U.enc(e.dag_id)}">${U.esc(e.dag_id)}</a>`);
    if (e.run_id) {
      const href = e.dag_id ? `/dags/${U.enc(e.dag_id)}?run_id=${U.enc(e.run_id)}` : null;
      parts.push(href ? `<a class="mono" href="${href}">${U.esc(e.run_id)}</a>` : `<span class="mono">${U.esc(e.run_id)}</span>`);
    }
    if (e.task_id) parts.push(`<span class="mono">${U.esc(e.task_id)}${e.map_index !== null && e.map_index >= 0 ? `[${U.esc(e.map_index)}]` : ""}</span>`);
    return parts.join(" / ");
  }

  function extra(text) {
    if (!text) return "";
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text)); } catch (e) { /* not JSON: shown as stored */ }
    if (shown.length <= 80) return `<code>${U.esc(shown)}</code>`;
    let pretty = shown;
    try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* as stored */ }
    return `<details><summary><code>${U.esc(shown.slice(0, 70))}&hellip;</code></summary><pre>${U.esc(pretty)}</pre></details>`;
  }

  const list = A.listView({
    table, state, noun: "event", filtered,
    pagerLabels: ["Newer", "Older"],
    key: (e) => e.event_log_id,
    async load(offset, limit) {
      const q = A.query({
        limit, offset, order_by: ["-when", "-event_log_id"],
        owner: state.owner, event: state.event, dag_id: state.dag_id,
        after: A.isoFromLocal(state.after), before: A.isoFromLocal(state.before),
      });
      const data = await U.api("GET", `/api/v2/eventLogs?${q}`);
      // The client address shows once the API reports it (as `client_ip`); until then, no column.
      table.classList.toggle("no-ip", !data.event_logs.some((e) => e.client_ip));
      return { items: data.event_logs, total: data.total_entries };
    },
    row(e) {
      const ip = e.client_ip || "";
      return `<tr data-key="${U.esc(e.event_log_id)}">
        <td class="nowrap" title="${U.esc(e.when)}">${U.fmtDate(e.when)}</td>
        <td>${e.owner ? U.esc(e.owner) : '<span class="muted">system</span>'}</td>
        <td class="mono">${U.esc(e.event)}</td><td>${where(e)}</td>
        <td class="mono ip">${U.esc(ip)}</td><td class="extra">${extra(e.extra)}</td></tr>`;
    },
  });

  A.bindFilterForm(document.getElementById("filters"), state, list);
  A.suggestDagIds(document.getElementById("dag-ids"));
  list.refresh();
})();
