/* Updraft admin pages: the shared parts (a paged table fed by the REST API, a form in a <dialog>
   that shows the API's errors next to its fields, filters kept in the URL). Each page's own script
   (admin_<page>.js) describes its rows and what its forms send. */
"use strict";
(function () {
  const U = window.Updraft;

  /* Filters kept in the page's query string, so a filtered view can be reloaded or shared. */
  function urlState(defaults) {
    const params = new URLSearchParams(location.search);
    const state = {};
    Object.keys(defaults).forEach((k) => { state[k] = params.has(k) ? params.get(k) : defaults[k]; });
    state.offset = Number(params.get("offset") || 0) || 0;
    state.save = () => {
      const q = new URLSearchParams();
      Object.keys(defaults).forEach((k) => { if (state[k] && state[k] !== defaults[k]) q.set(k, state[k]); });
      if (state.offset) q.set("offset", state.offset);
      const s = q.toString();
      history.replaceState(null, "", s ? `${location.pathname}?${s}` : location.pathname);
    };
    return state;
  }

  /* A paged table. opts: table, state (from urlState), load(offset, limit) -> {items, total},
     row(item) -> "<tr>", key(item), actions {name: fn(item, button)}, noun ("connection"), limit. */
  function listView(opts) {
    const table = opts.table;
    const body = table.querySelector("tbody");
    const columns = table.querySelectorAll("thead th").length;
    const pager = opts.pager || document.getElementById("pager");
    const count = opts.count || document.getElementById("list-count");
    const limit = opts.limit || 50;
    const state = opts.state;
    let items = new Map();
    let loading = null;
    let lastHtml = "";

    function plural(n) { return `${n} ${opts.noun}${n === 1 ? "" : "s"}`; }

    function renderPager(total) {
      if (!pager) return;
      if (total <= limit && !state.offset) { pager.innerHTML = ""; return; }
      const first = total ? state.offset + 1 : 0;
      const last = Math.min(state.offset + limit, total);
      const [prev, next] = opts.pagerLabels || ["Previous", "Next"];
      pager.innerHTML = `<button type="button" data-page="prev" ${state.offset ? "" : "disabled"}>&larr; ${prev}</button>
        <span class="muted">${first}&ndash;${last} of ${total}</span>
        <button type="button" data-page="next" ${last < total ? "" : "disabled"}>${next} &rarr;</button>`;
    }

    async function refresh() {
      const mine = (loading = {});
      let data;
      try {
        data = await opts.load(state.offset, limit);
      } catch (err) {
        if (mine !== loading) return;
        body.innerHTML = `<tr><td colspan="${columns}" class="error">${U.esc(err.message)}</td></tr>`;
        lastHtml = "";
        if (count) count.textContent = "";
        return;
      }
      if (mine !== loading) return; // a newer request is on its way
      if (state.offset && state.offset >= data.total && data.total > 0) {
        state.offset = Math.max(0, Math.floor((data.total - 1) / limit) * limit);
        state.save();
        return refresh();
      }
      items = new Map(data.items.map((item) => [String(opts.key(item)), item]));
      const html = data.items.length
        ? data.items.map(opts.row).join("")
        : `<tr><td colspan="${columns}" class="muted empty">No ${opts.noun}s${opts.filtered && opts.filtered() ? " match the filters" : " yet"}.</td></tr>`;
      if (html !== lastHtml) { body.innerHTML = html; lastHtml = html; }
      if (count) count.textContent = plural(data.total);
      renderPager(data.total);
    }

    if (pager) {
      pager.addEventListener("click", (ev) => {
        const button = ev.target.closest("button[data-page]");
        if (!button) return;
        state.offset = Math.max(0, state.offset + (button.dataset.page === "next" ? limit : -limit));
        state.save();
        refresh();
      });
    }
    body.addEventListener("click", (ev) => {
      const button = ev.target.closest("button[data-action]");
      if (!button || !opts.actions) return;
      const item = items.get(button.closest("tr").dataset.key);
      const action = opts.actions[button.dataset.action];
      if (item && action) action(item, button);
    });

    return {
      refresh,
      reset() { state.offset = 0; state.save(); return refresh(); },
      get(key) { return items.get(String(key)); },
    };
  }

  /* A text filter that refreshes the list shortly after the user stops typing. */
  function bindFilter(input, state, name, list) {
    if (!input) return;
    input.value = state[name] || "";
    let timer = null;
    const apply = () => {
      if ((state[name] || "") === input.value.trim()) return;
      state[name] = input.value.trim();
      list.reset();
    };
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(apply, 250); });
    input.addEventListener("change", apply);
  }

  /* One <dialog> holding a form. opts.submit(values, context) does the API calls and returns the
     message to toast; an ApiError it throws is shown in the form, which then stays open. */
  function formDialog(dialog, opts) {
    if (!dialog) return null;
    const form = dialog.querySelector("form");
    const title = dialog.querySelector(".dialog-title");
    const formError = dialog.querySelector(".form-error");
    const save = form.querySelector('button[type="submit"]');
    let context = null;
    let original = {};

    function fields() {
      return Array.from(form.elements).filter((el) => el.name && el.tagName !== "BUTTON");
    }

    function clearErrors() {
      dialog.querySelectorAll(".field-error").forEach((el) => { el.textContent = ""; });
      fields().forEach((el) => el.removeAttribute("aria-invalid"));
    }

    function read() {
      const values = {};
      fields().forEach((el) => {
        if (el.type === "checkbox" && el.dataset.multi !== undefined) {
          values[el.name] = values[el.name] || [];
          if (el.checked) values[el.name].push(el.value);
        } else if (el.type === "checkbox") {
          values[el.name] = el.checked;
        } else {
          values[el.name] = el.value;
        }
      });
      return values;
    }

    function fill(values) {
      fields().forEach((el) => {
        const v = values[el.name];
        if (el.type === "checkbox" && el.dataset.multi !== undefined) el.checked = (v || []).includes(el.value);
        else if (el.type === "checkbox") el.checked = Boolean(v);
        else el.value = v === null || v === undefined ? "" : String(v);
      });
    }

    function fieldError(name, message) {
      const holder = dialog.querySelector(`.field-error[data-error-for="${CSS.escape(name)}"]`);
      if (!holder) return false;
      holder.textContent = holder.textContent ? `${holder.textContent}; ${message}` : message;
      const input = form.elements[name];
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
      return true;
    }

    /* 422: FastAPI's list of {loc, msg}; 400/409: "field: message" or a sentence. */
    function showError(err) {
      const detail = err.body && err.body.detail;
      const rest = [];
      if (Array.isArray(detail)) {
        detail.forEach((d) => {
          const loc = (d.loc || []).filter((p) => p !== "body");
          if (!loc.length || !fieldError(String(loc[0]), d.msg)) rest.push(`${loc.join(".") || "request"}: ${d.msg}`);
        });
      } else {
        const message = typeof detail === "string" ? detail : err.message;
        const found = /^([a-z_]+): (.+)$/s.exec(message);
        if (!found || !fieldError(found[1], found[2])) rest.push(message);
      }
      formError.textContent = rest.join("; ");
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors();
      formError.textContent = "";
      if (!form.reportValidity()) return;
      save.disabled = true;
      try {
        const message = await opts.submit(read(), context);
        dialog.close();
        if (message) U.toast(message);
        if (opts.done) await opts.done();
      } catch (err) {
        if (err instanceof U.ApiError) {
          showError(err);
        } else { // the network, or a bug of ours: say so in the form, keep the details in the console
          formError.textContent = `Could not save: ${err.message || err}`;
          console.error(err);
        }
      } finally {
        save.disabled = false;
      }
    });
    dialog.querySelectorAll("button.cancel").forEach((b) => b.addEventListener("click", () => dialog.close()));

    return {
      /* open({title, values, context, readonly: [names], show: {selector: bool}}) */
      open(o) {
        context = o.context || null;
        clearErrors();
        formError.textContent = "";
        form.reset();
        fill(o.values || {});
        original = read();
        if (title) title.textContent = o.title;
        fields().forEach((el) => { el.readOnly = (o.readonly || []).includes(el.name); });
        Object.entries(o.show || {}).forEach(([selector, on]) => {
          dialog.querySelectorAll(selector).forEach((el) => { el.hidden = !on; });
          dialog.querySelectorAll(`${selector} input, ${selector} textarea`).forEach((el) => { el.disabled = !on; });
        });
        Object.entries(o.disable || {}).forEach(([name, off]) => {
          const el = form.elements[name];
          if (el) el.disabled = Boolean(off);
        });
        dialog.showModal();
        const first = fields().find((el) => !el.readOnly && !el.disabled && el.type !== "hidden" && el.offsetParent !== null);
        if (first) first.focus();
      },
      /* Names of the fields whose value differs from when the form was opened. */
      changed(values) {
        return Object.keys(values).filter((k) => JSON.stringify(values[k]) !== JSON.stringify(original[k]));
      },
      dialog,
    };
  }

  /* Ask, then delete; the API's refusal (e.g. the default pool) is toasted. */
  async function confirmDelete(what, name, url, list) {
    const ok = await U.confirm(`Delete ${what}?`, `This deletes the ${what} below. It cannot be undone.`, [name]);
    if (!ok) return;
    try {
      await U.api("DELETE", url);
      U.toast(`Deleted ${what} ${name}`);
    } catch (err) {
      U.toast(`Could not delete ${what} ${name}: ${err.message}`, true);
    }
    await list.refresh();
  }

  function orNull(value) {
    const v = typeof value === "string" ? value.trim() : value;
    return v === "" || v === undefined ? null : v;
  }

  function query(params) {
    const q = new URLSearchParams();
    Object.entries(params).forEach(([k, v]) => {
      if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
      else if (v !== null && v !== undefined && v !== "") q.set(k, v);
    });
    return q.toString();
  }

  function actionButtons(key, buttons) {
    return `<td class="row-actions">${buttons.map(([action, label, cls]) =>
      `<button type="button" class="small ${cls || ""}" data-action="${action}" aria-label="${U.esc(label)} ${U.esc(key)}">${U.esc(label)}</button>`).join("")}</td>`;
  }

  window.UpdraftAdmin = { urlState, listView, bindFilter, formDialog, confirmDelete, orNull, query, actionButtons };
})();

/* A filter form (the audit log, the runs): its fields fill from and write to the URL state; a
   change, submit or reset reloads the list from the first page (unless nothing changed). */
(function () {
  const A = window.UpdraftAdmin;
  A.bindFilterForm = function (form, state, list) {
    const names = Array.from(form.elements).filter((el) => el.name).map((el) => el.name);
    names.forEach((name) => { form.elements[name].value = state[name] || ""; });
    const apply = (force) => {
      const before = JSON.stringify(names.map((name) => state[name] || ""));
      names.forEach((name) => { state[name] = form.elements[name].value.trim(); });
      if (JSON.stringify(names.map((name) => state[name])) !== before || force === true) list.reset();
    };
    form.addEventListener("submit", (ev) => { ev.preventDefault(); apply(true); });
    form.addEventListener("reset", () => setTimeout(apply)); // after the browser has cleared the fields
    form.addEventListener("change", apply); // a picked option, a date, or a field left after typing
  };
  /* A local date-time input's value ("2024-03-05T06:07") as an ISO instant, for the API. */
  A.isoFromLocal = function (value) {
    if (!value) return null;
    const moment = new Date(value);
    return isNaN(moment) ? null : moment.toISOString();
  };
})();

/* Suggest DAG ids in a filter field: a <datalist> filled from /api/v2/dags (first 1000 by id). */
(function () {
  const U = window.Updraft, A = window.UpdraftAdmin;
  A.suggestDagIds = async function (datalist) {
    if (!datalist) return;
    try {
      const data = await U.api("GET", "/api/v2/dags?limit=1000&order_by=dag_id&exclude_stale=false");
      datalist.innerHTML = data.dags.map((d) => `<option value="${U.esc(d.dag_id)}"></option>`).join("");
    } catch (err) {
      console.warn("no DAG id suggestions:", err.message);
    }
  };
})();
