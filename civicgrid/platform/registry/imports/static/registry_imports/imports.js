// Polls an import's progress, fills the bar, and reloads the page when the batch
// finishes (the page then shows the counts, the problems and the report links).
(function () {
  const box = document.querySelector("[data-import-progress]");
  if (!box || box.dataset.finished === "1") return;
  const bar = box.querySelector(".progress > div");
  const status = box.querySelector("[data-status]");
  const phase = box.querySelector("[data-phase]");
  const error = box.querySelector("[data-error]");
  async function poll() {
    let state;
    try {
      const response = await fetch(box.dataset.importProgress, { credentials: "same-origin" });
      if (!response.ok) return;
      state = await response.json();
    } catch (e) {
      setTimeout(poll, 2000);
      return;
    }
    bar.style.width = state.percent + "%";
    status.textContent = state.status_label;
    status.className = "badge import-" + state.status;
    phase.textContent = state.phase_label;
    if (state.error) error.textContent = state.error;
    if (state.finished) { window.location.reload(); return; }
    setTimeout(poll, 800);
  }
  poll();
})();
