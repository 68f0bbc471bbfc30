(function(){
  var V = $data;
  var layers = [$layers];
  var markers = layers.map(function(){ return []; });
  layers.forEach(function(ly, k){
    cmWhenShown(ly.fg, function(){
      V.lat.forEach(function(lat, i){
        markers[k].push(L.circleMarker([lat, V.lon[i]], {
          pane: 'cmPoints', radius: V.r[i], color: '#333333', weight: 0.8, opacity: 0.9,
          fillColor: ly.pal[ly.c[i]], fillOpacity: 0.85, className: 'cm-village cm-vl-' + k
        }).bindPopup(V.p[i], cmPopup).bindTooltip(V.t[i]).addTo(ly.fg));
      });
    });
  });
  window.cmVillages = {data: V, layers: layers, markers: markers};
})();
