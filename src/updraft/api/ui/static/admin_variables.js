/* /variables: list, search, add, edit and delete. Values of secret-looking keys come back as ***
   from the API; editing such a variable keeps its value unless a new one is typed. */
"use strict";
(function () {
  const U = window.Updraft, A = window.UpdraftAdmin;
  const table = document.getElementById("list");
  const canEdit = table.dataset.canEdit === "true";
  const state = A.urlState({ search: "" });
  const MASKED = "***";

  const list = A.listView({
    table, state, noun: "variable",
    key: (v) => v.key,
    filtered: () => Boolean(state.search),
    async load(offset, limit) {
      const q = A.query({ limit, offset, variable_key_pattern: state.search, order_by: "key" });
      const data = await U.api("GET", `/api/v2/variables?${q}`);
      return { items: data.variables, total: data.total_entries };
    },
    row(v) {
      const value = v.value === MASKED
        ? '<span class="muted" title="Hidden: the key looks secret">***</span>'
        : v.value === null ? '<span class="muted">null</span>' : `<span class="mono value">${U.esc(v.value)}</span>`;
      const actions = canEdit ? A.actionButtons(v.key, [["edit", "Edit"], ["delete", "Delete", "danger"]]) : "";
      return `<tr data-key="${U.esc(v.key)}"><td class="mono">${U.esc(v.key)}</td><td>${value}</td>
        <td>${U.esc(v.description)}</td>${actions}</tr>`;
    },
    actions: {
      edit(v) {
        const hidden = v.value === MASKED;
        form.open({
          title: `Edit variable ${v.key}`,
          values: { key: v.key, value: hidden ? "" : v.value, description: v.description },
          readonly: ["key"],
          show: { ".sensitive-help": hidden },
          context: { editing: v.key, hidden },
        });
        form.dialog.querySelector("textarea[name=value]").placeholder = hidden ? "(hidden: unchanged)" : "";
      },
      delete: (v) => A.confirmDelete("variable", v.key, `/api/v2/variables/${U.enc(v.key)}`, list),
    },
  });

  const form = A.formDialog(document.getElementById("edit-dialog"), {
    async submit(values, context) {
      const data = { key: values.key.trim(), value: values.value, description: A.orNull(values.description) };
      if (!context) {
        await U.api("POST", "/api/v2/variables", data);
        return `Added variable ${data.key}`;
      }
      let mask = form.changed(values).filter((k) => k === "value" || k === "description");
      if (context.hidden && !values.value) mask = mask.filter((k) => k !== "value");
      if (!mask.length) return "Nothing changed";
      await U.api("PATCH", `/api/v2/variables/${U.enc(context.editing)}?${A.query({ update_mask: mask })}`, data);
      return `Saved variable ${context.editing}`;
    },
    done: () => list.refresh(),
  });

  const add = document.getElementById("add-button");
  if (add) {
    add.addEventListener("click", () => {
      form.open({ title: "Add variable", values: {}, show: { ".sensitive-help": false } });
      form.dialog.querySelector("textarea[name=value]").placeholder = "";
    });
  }
  A.bindFilter(document.getElementById("list-search"), state, "search", list);
  list.refresh();
})();
