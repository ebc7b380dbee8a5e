/* /connections: list, search, add, edit (an empty password keeps the stored one) and delete. */
"use strict";
(function () {
  const U = window.Updraft, A = window.UpdraftAdmin;
  const table = document.getElementById("list");
  const canEdit = table.dataset.canEdit === "true";
  const state = A.urlState({ search: "" });
  const FIELDS = ["conn_type", "host", "port", "schema", "login", "description", "extra"];

  const list = A.listView({
    table, state, noun: "connection",
    key: (c) => c.connection_id,
    filtered: () => Boolean(state.search),
    async load(offset, limit) {
      const q = A.query({ limit, offset, connection_id_pattern: state.search, order_by: "connection_id" });
      const data = await U.api("GET", `/api/v2/connections?${q}`);
      return { items: data.connections, total: data.total_entries };
    },
    row(c) {
      const cells = [c.connection_id, c.conn_type, c.host, c.port, c.schema, c.login, c.description]
        .map((v, i) => `<td${i === 0 ? ' class="mono"' : ""}>${U.esc(v)}</td>`).join("");
      const actions = canEdit ? A.actionButtons(c.connection_id, [["edit", "Edit"], ["delete", "Delete", "danger"]]) : "";
      return `<tr data-key="${U.esc(c.connection_id)}">${cells}${actions}</tr>`;
    },
    actions: {
      edit: (c) => form.open({
        title: `Edit connection ${c.connection_id}`,
        values: Object.assign({}, c, { password: "" }),
        readonly: ["connection_id"],
        context: { editing: c.connection_id },
      }),
      delete: (c) => A.confirmDelete("connection", c.connection_id, `/api/v2/connections/${U.enc(c.connection_id)}`, list),
    },
  });

  function body(values) {
    const port = A.orNull(values.port);
    const out = { connection_id: values.connection_id.trim(), conn_type: values.conn_type.trim() };
    ["host", "schema", "login", "description", "extra"].forEach((k) => { out[k] = A.orNull(values[k]); });
    out.port = port === null ? null : Number(port);
    if (values.password) out.password = values.password;
    return out;
  }

  const form = A.formDialog(document.getElementById("edit-dialog"), {
    async submit(values, context) {
      const data = body(values);
      if (!context) {
        await U.api("POST", "/api/v2/connections", data);
        return `Added connection ${data.connection_id}`;
      }
      // Only what changed: a password left empty, or an extra with *** left as shown, stays stored.
      const mask = form.changed(values).filter((k) => FIELDS.includes(k));
      if (values.password) mask.push("password");
      if (!mask.length) return "Nothing changed";
      const q = A.query({ update_mask: mask });
      await U.api("PATCH", `/api/v2/connections/${U.enc(context.editing)}?${q}`, data);
      return `Saved connection ${context.editing}`;
    },
    done: () => list.refresh(),
  });

  const add = document.getElementById("add-button");
  if (add) add.addEventListener("click", () => form.open({ title: "Add connection", values: {} }));
  A.bindFilter(document.getElementById("list-search"), state, "search", list);
  list.refresh();
})();
