/* Buttons that print the page (a file, not inline script: the console's pages run no inline code). */
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
