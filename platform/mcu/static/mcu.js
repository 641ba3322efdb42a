// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // «Выбрать все» in the inbox.
  document.querySelectorAll("input[data-select-all]").forEach((box) => {
    box.addEventListener("change", () => {
      document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`).forEach((b) => { b.checked = box.checked; });
    });
  });
  // Feedback on long actions (report generation, bulk work): the button says it is working and
  // cannot be pressed twice.
  document.querySelectorAll("form[data-busy]").forEach((form) => {
    form.addEventListener("submit", () => {
      // After the browser has read the form: a disabled submitter would not be sent.
      setTimeout(() => {
        form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; b.textContent = form.dataset.busy; });
      }, 0);
    });
  });
});
