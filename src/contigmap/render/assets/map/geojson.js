(function(){
  var S = $styles, D = $features;
  cmWhenShown($group, function(){ L.geoJSON(D, {
    pane: '$pane', className: '$class_name',
    style: function(f){ return S[f.properties.s]; },
    pointToLayer: function(f, ll){
      return L.circleMarker(ll, Object.assign(
        {pane: '$pane', className: '$class_name'}, S[f.properties.s]));
    },
    onEachFeature: function(f, l){
      if (f.properties.t) l.bindTooltip(f.properties.t, {sticky: true});
      if (f.properties.p) l.bindPopup(f.properties.p, cmPopup);
    }
  }).addTo($group); });
})();
