// The proofs map: points from the page's data attribute, tiles when a tile server is configured.
// Without tiles (an intranet, no network) the points still show on a plain background.
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || typeof L === "undefined") { return; }
  var points = JSON.parse(box.getAttribute("data-points") || "[]");
  if (!points.length) { return; }
  var map = L.map(box, { scrollWheelZoom: false });
  var tiles = box.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 18, attribution: box.getAttribute("data-attribution") || "" }).addTo(map);
  }
  var colours = { verified: "#1b7f3b", review: "#c0392b" };
  var bounds = [];
  points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lon], {
      radius: 8, color: colours[p.kind] || "#555", fillColor: colours[p.kind] || "#555",
      fillOpacity: 0.8, weight: 2
    }).addTo(map);
    marker.bindTooltip(p.label);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length === 1) { map.setView(bounds[0], 13); } else { map.fitBounds(bounds, { padding: [24, 24] }); }
  box.setAttribute("data-ready", String(points.length));
})();
