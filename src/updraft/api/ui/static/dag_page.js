/* The DAG page header: the pause toggle. */
"use strict";
(function () {
  const U = window.Updraft;
  const box = document.querySelector("#dag-header .pause-toggle");
  if (!box) return;
  box.addEventListener("change", async () => {
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
    }
  });
})();
