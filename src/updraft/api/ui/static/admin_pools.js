/* /pools: list with slot usage, search, add, edit and delete (the API refuses to delete the
   default pool; its answer is shown). */
"use strict";
(function () {
  const U = window.Updraft, A = window.UpdraftAdmin;
  const table = document.getElementById("list");
  const canEdit = table.dataset.canEdit === "true";
  const state = A.urlState({ search: "" });
  const slots = (n) => (n === -1 ? '<span title="unlimited">&infin;</span>' : U.esc(n));

  const list = A.listView({
    table, state, noun: "pool",
    key: (p) => p.name,
    filtered: () => Boolean(state.search),
    async load(offset, limit) {
      const q = A.query({ limit, offset, pool_name_pattern: state.search, order_by: "name" });
      const data = await U.api("GET", `/api/v2/pools?${q}`);
      return { items: data.pools, total: data.total_entries };
    },
    row(p) {
      const actions = canEdit ? A.actionButtons(p.name, [["edit", "Edit"], ["delete", "Delete", "danger"]]) : "";
      return `<tr data-key="${U.esc(p.name)}"><td class="mono">${U.esc(p.name)}</td>
        <td class="num">${slots(p.slots)}</td><td class="num">${U.esc(p.occupied_slots)}</td>
        <td class="num">${U.esc(p.running_slots)}</td><td class="num">${U.esc(p.queued_slots)}</td>
        <td class="num">${slots(p.open_slots)}</td><td>${U.esc(p.description)}</td>
        <td>${p.include_deferred ? "yes" : "no"}</td>${actions}</tr>`;
    },
    actions: {
      edit: (p) => form.open({
        title: `Edit pool ${p.name}`,
        values: p,
        readonly: ["name"],
        context: { editing: p.name },
      }),
      delete: (p) => A.confirmDelete("pool", p.name, `/api/v2/pools/${U.enc(p.name)}`, list),
    },
  });

  const form = A.formDialog(document.getElementById("edit-dialog"), {
    async submit(values, context) {
      const data = {
        slots: Number(values.slots),
        description: A.orNull(values.description),
        include_deferred: values.include_deferred,
      };
      if (!context) {
        data.name = values.name.trim();
        await U.api("POST", "/api/v2/pools", data);
        return `Added pool ${data.name}`;
      }
      const mask = form.changed(values).filter((k) => k in data);
      if (!mask.length) return "Nothing changed";
      await U.api("PATCH", `/api/v2/pools/${U.enc(context.editing)}?${A.query({ update_mask: mask })}`, data);
      return `Saved pool ${context.editing}`;
    },
    done: () => list.refresh(),
  });

  const add = document.getElementById("add-button");
  if (add) add.addEventListener("click", () => form.open({ title: "Add pool", values: { slots: 128 } }));
  A.bindFilter(document.getElementById("list-search"), state, "search", list);
  U.poll(() => list.refresh(), 10000);
})();
