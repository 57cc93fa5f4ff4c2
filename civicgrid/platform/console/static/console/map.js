/* The grid map: Leaflet on a blank base. Grids and townships from the tenant's GeoJSON,
   open cases as pins coloured by light, a density layer by category, a grid's card on click. */
(function () {
  "use strict";
  var box = document.getElementById("grid-map");
  if (!box || !window.L) return;
  var LIGHT = { red: "#d93025", yellow: "#f2a600", green: "#1e8e3e" };
  var map = L.map(box, { zoomControl: true, attributionControl: false, preferCanvas: true });
  map.setView([30.25, 120.17], 12);
  var status = L.control({ position: "topright" });
  status.onAdd = function () { var el = L.DomUtil.create("div", "map-status"); el.textContent = box.dataset.textLoading; return el; };
  status.addTo(map);
  function say(text) { var el = box.querySelector(".map-status"); if (el) { el.textContent = text || ""; el.hidden = !text; } }

  var categorySelect = document.querySelector("[data-map-category]");
  var card = document.querySelector("[data-map-card]");
  var townships = L.geoJSON(null, { style: { color: "#7a8794", weight: 2, fill: true, fillColor: "#eef1f4", fillOpacity: 1 }, interactive: false }).addTo(map);
  var densityCounts = {};
  var grids = L.geoJSON(null, {
    style: gridStyle,
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(feature.properties.name, { sticky: true });
      layer.on("click", function () { showCard(feature.properties.code); });
    }
  }).addTo(map);
  var pins = L.layerGroup().addTo(map);
  var densityOn = false;

  function gridStyle(feature) {
    var style = { color: "#b3261e", weight: 1, fillOpacity: 0.04, fillColor: "#b3261e" };
    if (densityOn) {
      var n = densityCounts[feature.properties.code] || 0;
      var max = Math.max(1, densityMax());
      style.fillOpacity = n ? 0.15 + 0.6 * (n / max) : 0.02;
      style.fillColor = "#b3261e";
    }
    return style;
  }
  function densityMax() { var m = 0; for (var k in densityCounts) { if (densityCounts[k] > m) m = densityCounts[k]; } return m; }

  function query() { var c = categorySelect && categorySelect.value; return c ? "?category=" + encodeURIComponent(c) : ""; }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    });
  }

  function loadGrids() {
    return getJSON(box.dataset.grids).then(function (collection) {
      var township = [], grid = [];
      collection.features.forEach(function (f) { (f.properties.level === "township" ? township : grid).push(f); });
      townships.addData({ type: "FeatureCollection", features: township });
      grids.addData({ type: "FeatureCollection", features: grid });
      var bounds = (grid.length ? grids : townships).getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
      box.dataset.gridCount = String(grid.length);
      if (!grid.length && !township.length) say(box.dataset.textEmpty); else say("");
    });
  }
  function loadPins() {
    pins.clearLayers();
    if (!document.querySelector('[data-map-layer="pins"]').checked) return Promise.resolve();
    return getJSON(box.dataset.cases + query()).then(function (collection) {
      collection.features.forEach(function (f) {
        var c = f.geometry.coordinates, p = f.properties;
        var marker = L.circleMarker([c[1], c[0]], { radius: 6, weight: 1, color: "#fff", fillColor: LIGHT[p.light] || "#555", fillOpacity: 0.95 });
        var link = document.createElement("a");
        link.href = p.url; link.textContent = p.number + " " + p.title;
        marker.bindPopup(link);
        marker.feature = f;
        pins.addLayer(marker);
      });
      box.dataset.pinCount = String(collection.features.length);
    });
  }
  function loadDensity() {
    densityOn = document.querySelector('[data-map-layer="density"]').checked;
    if (!densityOn) { densityCounts = {}; grids.setStyle(gridStyle); return Promise.resolve(); }
    return getJSON(box.dataset.density + query()).then(function (answer) {
      densityCounts = answer.counts; grids.setStyle(gridStyle);
      box.dataset.densityMax = String(densityMax());
    });
  }
  function showCard(code) {
    getJSON(box.dataset.gridCard.replace("CODE", encodeURIComponent(code))).then(function (grid) {
      card.hidden = false;
      card.textContent = "";
      var h = document.createElement("h3"); h.textContent = grid.name + (grid.area ? " · " + grid.area : ""); card.appendChild(h);
      var dl = document.createElement("dl");
      [[grid.labels.workers, grid.workers.length ? grid.workers.join("、") : grid.labels.none],
       [grid.labels.people, String(grid.people)], [grid.labels.open, String(grid.open_cases)]].forEach(function (row) {
        var dt = document.createElement("dt"); dt.textContent = row[0];
        var dd = document.createElement("dd"); dd.textContent = row[1];
        dl.appendChild(dt); dl.appendChild(dd);
      });
      card.appendChild(dl);
      var a = document.createElement("a"); a.href = grid.cases_url; a.textContent = grid.labels.list; card.appendChild(a);
      card.dataset.grid = grid.code;
    }).catch(function () { say(box.dataset.textFailed); });
  }

  document.querySelectorAll("[data-map-layer]").forEach(function (input) {
    input.addEventListener("change", function () { (input.dataset.mapLayer === "pins" ? loadPins() : loadDensity()).catch(function () { say(box.dataset.textFailed); }); });
  });
  if (categorySelect) categorySelect.addEventListener("change", function () {
    var url = new URL(window.location.href);
    if (categorySelect.value) url.searchParams.set("category", categorySelect.value); else url.searchParams.delete("category");
    window.history.replaceState(null, "", url);  // the filter stays in the address
    Promise.all([loadPins(), loadDensity()]).catch(function () { say(box.dataset.textFailed); });
  });
  loadGrids().then(function () { return Promise.all([loadPins(), loadDensity()]); })
    .then(function () { box.dataset.ready = "1"; })
    .catch(function () { say(box.dataset.textFailed); });
})();
