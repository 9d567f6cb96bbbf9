// The results map: Leaflet draws the resources of the search results. The list stands without it.
(function () {
  var map = null;

  function draw() {
    var element = document.getElementById("map");
    var data = document.getElementById("map-data");
    if (map) { map.remove(); map = null; }
    if (!element || !data || typeof L === "undefined") { return; }
    var points = JSON.parse(data.textContent);
    map = L.map(element, { scrollWheelZoom: false });
    L.tileLayer(element.dataset.tiles, { maxZoom: 18, attribution: element.dataset.attribution }).addTo(map);
    var bounds = [];
    points.forEach(function (p) {
      var marker = L.marker([p.lat, p.lon]).addTo(map);
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.name;
      var box = document.createElement("div");
      box.appendChild(link);
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(p.place));
      marker.bindPopup(box);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 12 }); }
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
