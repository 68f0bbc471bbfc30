(function(){
  var map = $map;
  var V = $data;
  var layers = [$layers];
  var markers = layers.map(function(){ return []; });
  layers.forEach(function(ly, k){
    cmWhenShown(ly.fg, function(){
      V.lat.forEach(function(lat, i){
        markers[k].push(L.circleMarker([lat, V.lon[i]], {
          pane: 'cmPoints', radius: V.r[i], color: '#333333', weight: 0.8, opacity: 0.9,
          fillColor: ly.pal[ly.c[i]], fillOpacity: 0.85, className: 'cm-village cm-vl-' + k
        }).bindPopup(V.p[i], cmPopup).bindTooltip(ly.tt ? V.t[i] + ly.tt[i] : V.t[i])
          .addTo(ly.fg));
      });
    });
  });
  // village names from zoom NAMES_ZOOM on, while a village theme is shown
  var NAMES_ZOOM = 12.5;
  var names = L.layerGroup();
  V.lat.forEach(function(lat, i){
    if (!V.n[i]) return;
    names.addLayer(L.marker([lat, V.lon[i]], {pane: 'cmLabels', interactive: false,
      keyboard: false, icon: L.divIcon({className: 'cm-vname', iconSize: null,
      html: '<span style="margin-left:' + (V.r[i] + 3) + 'px">' + V.n[i] + '</span>'})}));
  });
  function syncNames(){
    var want = map.getZoom() >= NAMES_ZOOM &&
      layers.some(function(ly){ return map.hasLayer(ly.fg); });
    if (want && !map.hasLayer(names)) names.addTo(map);
    if (!want && map.hasLayer(names)) map.removeLayer(names);
  }
  map.on('zoomend overlayadd overlayremove', syncNames); map.whenReady(syncNames);
  window.cmVillages = {data: V, layers: layers, markers: markers, names: names};
})();
