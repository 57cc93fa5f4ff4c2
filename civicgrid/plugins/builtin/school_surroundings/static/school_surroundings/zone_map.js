/* A school's zone on a blank base (no online tiles): the circle, the school, the registry's
   places (blue) and the open hazards (red) inside it, each with its distance. */
(function () {
  "use strict";
  var box = document.querySelector("[data-zone-map]");
  var source = document.getElementById("zone-data");
  if (!box || !source || !window.L) return;
  var data = JSON.parse(source.textContent);
  var map = L.map(box, { zoomControl: true, attributionControl: false, preferCanvas: true });
  var centre = [data.school.lat, data.school.lng];
  map.setView(centre, 16);  // a view first: a circle's bounds are worked out on the map's projection
  var circle = L.circle(centre, { radius: data.school.radius, color: "#1d4f91", weight: 2, fillColor: "#1d4f91", fillOpacity: 0.06 }).addTo(map);
  L.circleMarker(centre, { radius: 9, color: "#fff", weight: 2, fillColor: "#1d4f91", fillOpacity: 1 })
    .bindTooltip(data.school.name, { permanent: false }).addTo(map);
  function label(text) { var span = document.createElement("span"); span.textContent = text; return span; }
  data.places.forEach(function (p) {
    L.circleMarker([p.lat, p.lng], { radius: 6, color: "#fff", weight: 1, fillColor: "#2f6fbf", fillOpacity: 0.95 })
      .bindPopup(label(p.name + " · " + p.kind + " · " + p.distance + " m")).addTo(map);
  });
  data.hazards.forEach(function (h) {
    var link = document.createElement("a");
    link.href = h.url; link.textContent = h.number + " " + h.title + " · " + h.distance + " m";
    L.circleMarker([h.lat, h.lng], { radius: 7, color: "#fff", weight: 1, fillColor: "#d93025", fillOpacity: 0.95 })
      .bindPopup(link).addTo(map);
  });
  map.fitBounds(circle.getBounds(), { padding: [16, 16] });
  box.dataset.places = String(data.places.length);
  box.dataset.hazards = String(data.hazards.length);
  box.dataset.ready = "1";
})();
