// Case pages: "use my location", photo previews and a one-shot submit on the report form;
// the list's filters open by default on wide screens. Everything works without it.
(function () {
  "use strict";

  const filters = document.querySelector("details[data-open-wide]");
  if (filters && window.matchMedia("(min-width: 801px)").matches) filters.open = true;

  const form = document.querySelector("form[data-report-form]");
  if (!form) return;

  const locate = form.querySelector("[data-locate]");
  const status = form.querySelector("[data-locate-status]");
  const latitude = form.querySelector("#id_latitude");
  const longitude = form.querySelector("#id_longitude");
  // Browsers give a location only to secure pages (HTTPS, or localhost): elsewhere the button stays hidden.
  if (locate && "geolocation" in navigator && window.isSecureContext) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = locate.dataset.locating;
      locate.disabled = true;
      navigator.geolocation.getCurrentPosition(function (position) {
        latitude.value = position.coords.latitude.toFixed(6);
        longitude.value = position.coords.longitude.toFixed(6);
        status.textContent = locate.dataset.located + " (±" + Math.round(position.coords.accuracy) + " m)";
        locate.disabled = false;
      }, function (error) {
        status.textContent = error.code === error.PERMISSION_DENIED ? locate.dataset.denied : locate.dataset.failed;
        locate.disabled = false;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  const photos = form.querySelector("#id_photos");
  const previews = form.querySelector("[data-previews]");
  if (photos && previews && window.URL) {
    photos.addEventListener("change", function () {
      previews.replaceChildren();
      Array.from(photos.files).forEach(function (file) {
        if (!file.type.startsWith("image/")) return;
        const image = document.createElement("img");
        image.src = URL.createObjectURL(file);
        image.alt = file.name;
        image.onload = function () { URL.revokeObjectURL(image.src); };
        previews.appendChild(image);
      });
    });
  }

  // A phone on a weak signal: one tap, one report.
  form.addEventListener("submit", function () {
    const button = form.querySelector("button[type=submit]");
    if (button.disabled) return;
    setTimeout(function () { button.disabled = true; button.textContent = button.dataset.sending; }, 0);
  });
})();
