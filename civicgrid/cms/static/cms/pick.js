// The resident taps the community's grid map (drawn from the grids' GeoJSON, no tiles)
// and the point goes into the form's latitude and longitude.
(function () {
  "use strict";
  var data = document.getElementById("community-grids");
  var svg = document.querySelector("[data-map]");
  if (!data || !svg) return;
  var features = JSON.parse(data.textContent);
  var form = svg.closest("form");
  var lat = form.querySelector("[name=latitude]"), lng = form.querySelector("[name=longitude]");
  var picked = form.querySelector("[data-picked]");
  var NS = "http://www.w3.org/2000/svg";
  var rings = [];
  features.forEach(function (f) {
    var g = f.geometry, polys = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
    polys.forEach(function (p) { rings.push({ name: f.properties.name, ring: p[0] }); });
  });
  if (!rings.length) { svg.closest(".map-pick").hidden = true; return; }
  var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  rings.forEach(function (r) { r.ring.forEach(function (c) {
    minX = Math.min(minX, c[0]); maxX = Math.max(maxX, c[0]); minY = Math.min(minY, c[1]); maxY = Math.max(maxY, c[1]);
  }); });
  // Longitude shrinks with latitude: scale x by cos(lat) so squares stay square.
  var k = Math.cos((minY + maxY) / 2 * Math.PI / 180), pad = 0.05 * Math.max((maxX - minX) * k, maxY - minY);
  var vb = [minX * k - pad, -maxY - pad, (maxX - minX) * k + 2 * pad, (maxY - minY) + 2 * pad];
  svg.setAttribute("viewBox", vb.join(" "));
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  rings.forEach(function (r) {
    var path = document.createElementNS(NS, "path");
    path.setAttribute("d", "M" + r.ring.map(function (c) { return (c[0] * k) + "," + (-c[1]); }).join("L") + "Z");
    svg.appendChild(path);
    var cx = 0, cy = 0;
    r.ring.forEach(function (c) { cx += c[0] * k; cy -= c[1]; });
    var label = document.createElementNS(NS, "text");
    label.setAttribute("x", cx / r.ring.length); label.setAttribute("y", cy / r.ring.length);
    label.setAttribute("text-anchor", "middle");
    label.setAttribute("font-size", vb[3] / 18);
    label.textContent = r.name;
    svg.appendChild(label);
  });
  var dot = document.createElementNS(NS, "circle");
  dot.setAttribute("r", vb[3] / 40); dot.style.display = "none";
  svg.appendChild(dot);
  function show(x, y) { dot.setAttribute("cx", x); dot.setAttribute("cy", y); dot.style.display = ""; picked.hidden = false; }
  if (lat.value && lng.value) show(parseFloat(lng.value) * k, -parseFloat(lat.value));
  svg.addEventListener("click", function (event) {
    var pt = svg.createSVGPoint(); pt.x = event.clientX; pt.y = event.clientY;
    var p = pt.matrixTransform(svg.getScreenCTM().inverse());
    lng.value = (p.x / k).toFixed(6); lat.value = (-p.y).toFixed(6);
    show(p.x, p.y);
  });
  picked.querySelector("[data-clear]").addEventListener("click", function () {
    lat.value = ""; lng.value = ""; dot.style.display = "none"; picked.hidden = true;
  });
})();
