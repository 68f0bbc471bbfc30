(function(){
  var S = $styles, D = $features;
  var seen = {};  // points sharing a location are spread on a small spiral (pixels)
  cmWhenShown($group, function(){ L.geoJSON(D, {
    pane: '$pane', className: '$class_name',
    style: function(f){ return S[f.properties.s]; },
    pointToLayer: function(f, ll){
      var m = L.circleMarker(ll, Object.assign(
        {pane: '$pane', className: '$class_name'}, S[f.properties.s]));
      var key = ll.lat + ',' + ll.lng, k = seen[key] = (seen[key] || 0) + 1;
      if (k > 1) m.on('add', function(){
        var a = k * 2.39996, r = 9 * Math.sqrt(k - 1), el = m.getElement();
        if (el) el.style.transform = 'translate(' + (r * Math.cos(a)).toFixed(1) + 'px,' +
          (r * Math.sin(a)).toFixed(1) + 'px)';
      });
      return m;
    },
    onEachFeature: function(f, l){
      if (f.properties.t) l.bindTooltip(f.properties.t, {sticky: true});
      if (f.properties.p) l.bindPopup(f.properties.p, cmPopup);
    }
  }).addTo($group); });
})();
