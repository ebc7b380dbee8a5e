/* Updraft UI: shared helpers for every page (API calls with CSRF, confirmation, polling, formatting). */
"use strict";
(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  class ApiError extends Error {
    constructor(status, body) {
      super(ApiError.describe(body, status));
      this.status = status;
      this.body = body;
    }
    static describe(body, status) {
      const detail = body && body.detail;
      if (Array.isArray(detail)) {
        return detail.map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`).join("; ");
      }
      return typeof detail === "string" ? detail : `request failed (${status})`;
    }
  }

  async function api(method, url, body, extraHeaders) {
    const headers = Object.assign({ Accept: "application/json" }, extraHeaders || {});
    const init = { method, headers, credentials: "same-origin" };
    if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf();
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    if (response.status === 401) {
      window.location.href = "/auth/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new ApiError(401, { detail: "not signed in" });
    }
    if (response.status === 304) return { notModified: true, response };
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function esc(value) {
    return String(value === null || value === undefined ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function toast(message, bad) {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.className = "show" + (bad ? " bad" : "");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { el.className = ""; }, bad ? 8000 : 3000);
  }

  /* Ask before acting: resolves true only when the user presses Confirm. */
  function confirmAction(title, text, items) {
    const dialog = document.getElementById("confirm");
    dialog.querySelector("#confirm-title").textContent = title;
    dialog.querySelector("#confirm-text").textContent = text || "";
    const list = dialog.querySelector("#confirm-list");
    list.innerHTML = (items || []).map((i) => `<li>${esc(i)}</li>`).join("");
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  /* Call fn now and then every `ms` while the page is visible; fn may return a number of
     milliseconds to wait next instead. Returns a stopper; `stopper.now()` polls at once (after
     the poll in flight, if any) and restarts the timer, e.g. right after an action. */
  function poll(fn, ms) {
    let timer = null, stopped = false, running = false, again = false;
    const run = async () => {
      if (stopped) return;
      clearTimeout(timer);
      if (running) { again = true; return; }
      running = true;
      let next = ms;
      if (!document.hidden) {
        try { const r = await fn(); if (typeof r === "number") next = r; } catch (e) { console.error(e); }
      }
      running = false;
      if (stopped) return;
      if (again) { again = false; run(); return; }
      timer = setTimeout(run, next);
    };
    document.addEventListener("visibilitychange", () => { if (!document.hidden) run(); });
    run();
    const stop = () => { stopped = true; clearTimeout(timer); };
    stop.now = run;
    return stop;
  }

  function parseDate(v) { return v ? new Date(v) : null; }

  function fmtDate(v) {
    const d = parseDate(v);
    if (!d || isNaN(d)) return "";
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return "";
    if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
    if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = Math.round(seconds % 60);
    return h ? `${h} h ${m} min` : `${m} min ${s} s`;
  }

  function fmtBytes(n) {
    if (n === null || n === undefined) return "";
    const units = ["B", "KiB", "MiB", "GiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
  }

  function enc(s) { return encodeURIComponent(s); }

  window.Updraft = { api, ApiError, esc, toast, confirm: confirmAction, poll, fmtDate, fmtDuration, fmtBytes, enc, csrf };
})();
