// Polls an onboarding job's progress and fills the bar; stops when the job finishes.
(function () {
  const box = document.querySelector("[data-progress-url]");
  if (!box) return;
  const bar = box.querySelector(".progress > div");
  const step = box.querySelector("[data-step]");
  const status = box.querySelector("[data-status]");
  const error = box.querySelector("[data-error]");
  async function poll() {
    const response = await fetch(box.dataset.progressUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const job = await response.json();
    bar.style.width = job.percent + "%";
    step.textContent = job.step_label;
    status.textContent = job.status_label;
    status.className = "badge " + job.status;
    if (job.error) error.textContent = job.error;
    if (job.finished) {
      if (job.tenant_url) {
        const link = box.querySelector("[data-tenant-link]");
        link.href = job.tenant_url; link.textContent = job.tenant_url; link.parentElement.hidden = false;
      }
      return;
    }
    setTimeout(poll, 700);
  }
  poll();
})();
