/* A case's page: side actions open as dialogs, photos open in a viewer, the case on its grid's
   map (Leaflet, blank base). Without this script every action is still a form on the page. */
(function () {
  "use strict";

  // --- actions as dialogs: a <details class="as-dialog"> whose form floats over a backdrop ---
  var backdrop = document.createElement("div");
  backdrop.className = "dialog-backdrop";
  backdrop.hidden = true;
  document.body.appendChild(backdrop);
  var dialogs = document.querySelectorAll("details.as-dialog");
  function closeAll() { dialogs.forEach(function (d) { d.open = false; }); backdrop.hidden = true; }
  dialogs.forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (details.open) {
        dialogs.forEach(function (other) { if (other !== details) other.open = false; });
        backdrop.hidden = false;
        var first = details.querySelector("select, textarea, input:not([type=hidden])");
        if (first) first.focus();
      } else if (!Array.prototype.some.call(dialogs, function (d) { return d.open; })) {
        backdrop.hidden = true;
      }
    });
  });
  document.querySelectorAll("[data-dialog-close]").forEach(function (button) {
    button.addEventListener("click", function () { var d = button.closest("details"); if (d) d.open = false; });
  });
  backdrop.addEventListener("click", closeAll);
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") closeAll(); });
  // A dialog with errors comes back open (the server opens it): show its backdrop.
  if (Array.prototype.some.call(dialogs, function (d) { return d.open; })) backdrop.hidden = false;

  // --- the photo viewer ---
  var viewer = document.querySelector("[data-photo-dialog]");
  if (viewer && viewer.showModal) {
    var image = viewer.querySelector("img");
    document.querySelectorAll("[data-photo-viewer] a[data-full]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        image.src = link.dataset.full;
        image.alt = (link.querySelector("img") || {}).alt || "";
        viewer.showModal();
      });
    });
    viewer.addEventListener("click", function (event) { if (event.target === viewer) viewer.close(); });
  }

  // --- the case on its grid ---
  var box = document.querySelector("[data-case-map]");
  var source = document.getElementById("case-map-data");
  if (box && source && window.L) {
    var data = JSON.parse(source.textContent);
    var map = L.map(box, { attributionControl: false, scrollWheelZoom: false });
    // The view first, from the data alone; then the layers (Leaflet draws vectors only on a map with a view).
    var bounds = L.latLngBounds([]);
    var grid = data.boundary ? L.geoJSON(data.boundary, { style: { color: "#b3261e", weight: 2, fillOpacity: 0.06 } }) : null;
    var spot = data.point ? L.latLng(data.point[1], data.point[0]) : null;
    if (grid) bounds.extend(grid.getBounds());
    if (spot) bounds.extend(spot);
    if (!bounds.isValid()) return;
    map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
    if (grid) { grid.addTo(map); if (data.grid) grid.bindTooltip(data.grid); }
    if (spot) L.circleMarker(spot, { radius: 8, color: "#fff", weight: 2, fillColor: "#b3261e", fillOpacity: 1 }).addTo(map);
    box.dataset.ready = "1";
  }
})();
