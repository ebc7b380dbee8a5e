/* /users (Admin): list, add (with a password), edit names, email, roles and active, reset a
   password, delete. The API refuses to delete or deactivate one's own account; the page does not
   offer it either. */
"use strict";
(function () {
  const U = window.Updraft, A = window.UpdraftAdmin;
  const table = document.getElementById("list");
  const canEdit = table.dataset.canEdit === "true";
  const me = table.dataset.me;
  const state = A.urlState({});
  const PROFILE = ["first_name", "last_name", "email", "roles", "active"];

  const list = A.listView({
    table, state, noun: "user",
    key: (u) => u.username,
    async load(offset, limit) {
      const data = await U.api("GET", `/api/v2/users?${A.query({ limit, offset, order_by: "username" })}`);
      return { items: data.users, total: data.total_entries };
    },
    row(u) {
      const roles = u.roles.map((r) => `<span class="tag role">${U.esc(r.name)}</span>`).join("");
      const self = u.username === me;
      const buttons = [["edit", "Edit"], ["password", "Reset password"]];
      if (!self) buttons.push(["delete", "Delete", "danger"]);
      const actions = canEdit ? A.actionButtons(u.username, buttons) : "";
      return `<tr data-key="${U.esc(u.username)}"${u.active ? "" : ' class="inactive"'}>
        <td class="mono">${U.esc(u.username)}${self ? ' <span class="muted">(you)</span>' : ""}</td>
        <td>${U.esc(`${u.first_name} ${u.last_name}`.trim())}</td><td>${U.esc(u.email)}</td>
        <td>${roles}</td><td>${u.active ? "yes" : '<span class="error">no</span>'}</td>
        <td>${u.last_login ? U.fmtDate(u.last_login) : '<span class="muted">never</span>'}</td>${actions}</tr>`;
    },
    actions: {
      edit: (u) => form.open({
        title: `Edit user ${u.username}`,
        values: Object.assign({}, u, { roles: u.roles.map((r) => r.name) }),
        readonly: ["username"],
        show: { ".new-only": false },
        disable: { active: u.username === me },
        context: { editing: u.username },
      }),
      password: (u) => passwordForm.open({ title: `Reset the password of ${u.username}`, context: { editing: u.username } }),
      delete: (u) => A.confirmDelete("user", u.username, `/api/v2/users/${U.enc(u.username)}`, list),
    },
  });

  const form = A.formDialog(document.getElementById("edit-dialog"), {
    async submit(values, context) {
      const data = {
        first_name: values.first_name.trim(),
        last_name: values.last_name.trim(),
        email: values.email.trim(),
        roles: values.roles.map((name) => ({ name })),
        active: values.active,
      };
      if (!context) {
        Object.assign(data, { username: values.username.trim(), password: values.password });
        await U.api("POST", "/api/v2/users", data);
        return `Added user ${data.username}`;
      }
      const mask = form.changed(values).filter((k) => PROFILE.includes(k));
      if (!mask.length) return "Nothing changed";
      const body = {};
      mask.forEach((k) => { body[k] = data[k]; });
      await U.api("PATCH", `/api/v2/users/${U.enc(context.editing)}?${A.query({ update_mask: mask })}`, body);
      return `Saved user ${context.editing}`;
    },
    done: () => list.refresh(),
  });

  const passwordForm = A.formDialog(document.getElementById("password-dialog"), {
    async submit(values, context) {
      const q = A.query({ update_mask: "password" });
      await U.api("PATCH", `/api/v2/users/${U.enc(context.editing)}?${q}`, { password: values.new_password });
      return `Changed the password of ${context.editing}`;
    },
    done: () => list.refresh(),
  });

  const add = document.getElementById("add-button");
  if (add) {
    add.addEventListener("click", () => form.open({
      title: "Add user", values: { active: true, roles: ["Viewer"] }, show: { ".new-only": true }, disable: { active: false },
    }));
  }
  list.refresh();
})();
