(function(){
  // points drawn from one copy of their coordinates shared by several layers (hamlets)
  var G = (window.cmShared = window.cmShared || {}), key = $key, first = $points;
  if (first) G[key] = first;
  var P = G[key], S = $styles, D = $props;
  function pick(col, i){ return col[0][col[1][i]]; }  // [values, index per point]
  function card(i){
    return '<div class="cm-card"><table>' + D.h.map(function(h, j){
      return '<tr><th>' + h + '</th><td>' + pick(D.p[j], i) + '</td></tr>'; }).join('') +
      '</table></div>';
  }
  var seen = {};  // points sharing a location are spread on a small spiral (pixels)
  cmWhenShown($group, function(){
    P.lat.forEach(function(lat, i){
      var m = L.circleMarker([lat, P.lon[i]], Object.assign(
        {pane: 'cmPoints', className: 'cm-extra'}, S[D.s[i]]));
      var at = lat + ',' + P.lon[i], k = seen[at] = (seen[at] || 0) + 1;
      if (k > 1) m.on('add', function(){
        var a = k * 2.39996, r = 9 * Math.sqrt(k - 1), el = m.getElement();
        if (el) el.style.transform = 'translate(' + (r * Math.cos(a)).toFixed(1) + 'px,' +
          (r * Math.sin(a)).toFixed(1) + 'px)';
      });
      var t = pick(D.t, i);
      if (t) m.bindTooltip(t, {sticky: true});
      if (D.h.length) m.bindPopup(function(){ return card(i); }, cmPopup);
      m.addTo($group);
    });
  });
})();
