(function(){
  var map = $map;
  var legends = [$legends];
  var lc = L.control({position: 'bottomright'});
  lc.onAdd = function(){
    var d = L.DomUtil.create('div', 'cm-legends');
    legends.forEach(function(e){
      var b = L.DomUtil.create('div', 'cm-legend', d); b.innerHTML = e[1]; e.push(b);
    });
    L.DomEvent.disableScrollPropagation(d); L.DomEvent.disableClickPropagation(d);
    return d;
  };
  lc.addTo(map);
  function sync(){
    var any = false;
    legends.forEach(function(e){
      var on = e[0].some(function(l){ return map.hasLayer(l); });
      e[2].style.display = on ? '' : 'none'; any = any || on;
    });
    lc.getContainer().style.display = any ? '' : 'none';
  }
  map.on('overlayadd overlayremove', sync); sync();

  var nc = L.control({position: 'bottomleft'});
  nc.onAdd = function(){
    var d = L.DomUtil.create('div', 'cm-note'); d.innerHTML = $note; return d;
  };
  nc.addTo(map);

  var V = window.cmVillages;
  if (!V) return;
  var sc = L.control({position: 'topleft'});
  sc.onAdd = function(){
    var d = L.DomUtil.create('div', 'cm-search leaflet-bar');
    var inp = L.DomUtil.create('input', '', d);
    inp.type = 'search'; inp.id = 'cm-search-input';
    inp.placeholder = '搜索村名 Search village';
    inp.setAttribute('list', 'cm-search-list');
    var dl = L.DomUtil.create('datalist', '', d); dl.id = 'cm-search-list';
    V.data.q.forEach(function(s){
      var o = document.createElement('option'); o.value = s; dl.appendChild(o);
    });
    function go(){
      var q = inp.value.trim(); if (!q) return;
      var i = V.data.q.indexOf(q);
      if (i < 0) {
        var names = V.data.q;
        for (var k = 0; k < names.length; k++) {
          if (names[k].indexOf(q) >= 0) { i = k; break; }
        }
      }
      if (i < 0) { inp.style.background = '#fdd'; return; }
      inp.style.background = '';
      var li = -1;
      for (var j = 0; j < V.layers.length; j++) {
        if (map.hasLayer(V.layers[j].fg)) { li = j; break; }
      }
      if (li < 0) { li = 0; map.addLayer(V.layers[0].fg); }
      var mk = V.markers[li][i];
      map.setView(mk.getLatLng(), Math.max(map.getZoom(), 13), {animate: false});
      mk.openPopup();
    }
    inp.addEventListener('change', go);
    inp.addEventListener('keydown', function(e){ if (e.key === 'Enter') go(); });
    L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
    return d;
  };
  sc.addTo(map);
})();
