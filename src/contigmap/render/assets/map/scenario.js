(function(){
  // Before/after view of road scenarios: two panes, a swipe line between them, a panel.
  var map = $map, D = $data;
  var paneB = map.createPane('cmScenBefore'), paneA = map.createPane('cmScenAfter');
  paneB.style.zIndex = 445; paneA.style.zIndex = 446;
  var gB = L.layerGroup(), gA = L.layerGroup();
  var K = {
    build: [{color: '#e60012', weight: 5, opacity: 0.95, dashArray: '14 8'}],
    upgrade: [{color: '#ffc9c9', weight: 9, opacity: 0.9},
              {color: '#e60012', weight: 4, opacity: 0.95, dashArray: '6 5'}],
    close: [{color: '#111111', weight: 5, opacity: 0.9, dashArray: '2 7', lineCap: 'butt'}],
    bus: [{color: '#ffffff', weight: 7, opacity: 0.9},
          {color: '#1f5fbf', weight: 3.5, opacity: 1}]
  };
  var pos = 0.5, on = false, cur = 0;

  function cls(m){
    if (m === null) return ['不通 no route', '#7f7f7f'];
    for (var i = 0; i < D.classes.length; i++) {
      var c = D.classes[i];
      if (c[0] === null || m <= c[0]) return [c[1], c[2]];
    }
    return ['', '#7f7f7f'];
  }
  function mins(m){ return m === null ? '不通 no route' : Math.round(m) + ' 分钟 min'; }
  function tip(v, after){
    var s = '<b>' + v[2] + '</b><br>到本乡镇驻地 to own township seat<br>';
    if (!after) return s + '现状 before: <b>' + mins(v[3]) + '</b>';
    s += '情景 after: <b>' + mins(v[4]) + '</b>';
    if (v[3] !== null && v[4] !== null && Math.round(v[4] - v[3]) !== 0) {
      var d = Math.round(v[4] - v[3]);
      s += '（' + (d < 0 ? '快 ' + (-d) : '慢 ' + d) + ' 分钟）';
    } else if (v[3] !== null && v[4] === null) { s += '（失去通达 cut off）'; }
    return s;
  }
  function draw(i){
    gB.clearLayers(); gA.clearLayers();
    var s = D.sc[i];
    s.v.forEach(function(v){
      [[gB, 'cmScenBefore', v[3], false], [gA, 'cmScenAfter', v[4], true]].forEach(function(x){
        var mk = L.circleMarker([v[0], v[1]], {pane: x[1], radius: 6, color: '#333', weight: 1,
          fillColor: cls(x[2])[1], fillOpacity: 0.95, className: 'cm-scen-v'});
        mk.cmMin = x[2]; mk.cmName = v[2]; mk.cmAfter = x[3];
        mk.bindTooltip(tip(v, x[3]), {sticky: true}).addTo(x[0]);
      });
    });
    s.w.features.forEach(function(f){
      var styles = K[f.properties.k] || K.build;
      styles.forEach(function(st){
        L.geoJSON(f, {pane: 'cmScenAfter', style: function(){ return st; },
          pointToLayer: function(g, ll){
            return L.circleMarker(ll, {pane: 'cmScenAfter', radius: 5, color: '#1f5fbf',
                                       weight: 2, fillColor: '#fff', fillOpacity: 1});
          }
        }).bindTooltip(f.properties.t, {sticky: true}).addTo(gA);
      });
      if (f.properties.k === 'bus' && f.geometry.type === 'LineString') {
        f.geometry.coordinates.forEach(function(c){
          L.circleMarker([c[1], c[0]], {pane: 'cmScenAfter', radius: 5, color: '#1f5fbf',
            weight: 2, fillColor: '#fff', fillOpacity: 1}).bindTooltip(f.properties.t).addTo(gA);
        });
      }
    });
  }

  // the swipe: before left of the line, after right of it
  var box = map.getContainer();
  var line = L.DomUtil.create('div', 'cm-swipe', box);
  line.innerHTML = '<span class="cm-swipe-l">◀ 现状 before</span>' +
    '<span class="cm-swipe-r">情景 after ▶</span><div class="cm-swipe-h" tabindex="0" ' +
    'role="slider" aria-label="前后对比 before/after">⇔</div>';
  var handle = line.querySelector('.cm-swipe-h');
  L.DomEvent.disableClickPropagation(line);
  function clip(){
    if (!on) { paneB.style.clip = paneA.style.clip = ''; return; }
    var size = map.getSize();
    var nw = map.containerPointToLayerPoint([0, 0]);
    var se = map.containerPointToLayerPoint(size);
    var x = map.containerPointToLayerPoint([pos * size.x, 0]).x;
    paneB.style.clip = 'rect(' + [nw.y, x, se.y, nw.x].join('px,') + 'px)';
    paneA.style.clip = 'rect(' + [nw.y, se.x, se.y, x].join('px,') + 'px)';
    line.style.left = (pos * size.x) + 'px';
    handle.setAttribute('aria-valuenow', Math.round(pos * 100));
  }
  function setPos(p){ pos = Math.max(0, Math.min(1, p)); clip(); }
  var drag = false;
  L.DomEvent.on(handle, 'pointerdown', function(e){
    drag = true; map.dragging.disable(); L.DomEvent.stop(e);
  });
  L.DomEvent.on(document, 'pointermove', function(e){
    if (!drag) return;
    var r = box.getBoundingClientRect(); setPos((e.clientX - r.left) / r.width);
  });
  L.DomEvent.on(document, 'pointerup', function(){
    if (drag) { drag = false; map.dragging.enable(); }
  });
  L.DomEvent.on(handle, 'keydown', function(e){
    if (e.key === 'ArrowLeft') setPos(pos - 0.05);
    if (e.key === 'ArrowRight') setPos(pos + 0.05);
  });
  map.on('move zoom zoomend resize viewreset', clip);

  // the panel: scenario name, headline numbers, switch
  var panel = L.control({position: 'topleft'});
  var el;
  function facts(){
    var s = D.sc[cur];
    el.querySelector('.cm-scen-facts').innerHTML = s.f.map(function(f, j){
      return '<tr data-k="' + j + '" data-v="' + f[2] + '"><th>' + f[0] + '</th><td>' +
        f[1] + '</td></tr>';
    }).join('');
  }
  function legend(){
    var rows = D.classes.map(function(c){
      return '<span class="cm-scen-key"><i style="background:' + c[2] + '"></i>' + c[1] +
        '</span>';
    });
    ['build', 'upgrade', 'close', 'bus'].forEach(function(k){
      rows.push('<span class="cm-scen-key"><b class="cm-scen-ln cm-scen-' + k + '"></b>' +
        D.kinds[k] + '</span>');
    });
    return rows.join('');
  }
  function show(flag){
    on = flag;
    [gB, gA].forEach(function(g){ if (on) { g.addTo(map); } else { map.removeLayer(g); } });
    line.style.display = on ? '' : 'none';
    // the comparison draws its own villages: the village themes would show through it
    var pts = map.getPane('cmPoints'); if (pts) pts.style.visibility = on ? 'hidden' : '';
    el.querySelector('.cm-scen-on').checked = on;
    el.classList.toggle('cm-scen-open', on);
    clip();
  }
  panel.onAdd = function(){
    el = L.DomUtil.create('div', 'cm-scen');
    var opts = D.sc.map(function(s, j){
      return '<option value="' + j + '">' + s.t + '</option>';
    }).join('');
    el.innerHTML = '<div class="cm-scen-head">道路情景 Road scenario</div>' +
      '<select class="cm-scen-pick" aria-label="情景 scenario">' + opts + '</select>' +
      '<label class="cm-scen-sw"><input type="checkbox" class="cm-scen-on"> ' +
      '前后对比 before/after</label><table class="cm-scen-facts"></table>' +
      '<details class="cm-scen-legend"><summary>图例 Key: 到乡镇驻地时间 minutes</summary>' +
      legend() + '</details>';
    L.DomEvent.disableClickPropagation(el); L.DomEvent.disableScrollPropagation(el);
    el.querySelector('.cm-scen-pick').addEventListener('change', function(e){
      cur = +e.target.value; draw(cur); facts(); if (!on) show(true);
    });
    el.querySelector('.cm-scen-on').addEventListener('change', function(e){
      show(e.target.checked);
    });
    return el;
  };
  panel.addTo(map);
  draw(0); facts(); show(!!D.open);

  // for tests and for other scripts: the state of the view
  window.cmScenario = {
    map: map, setPos: setPos, show: show,
    pick: function(j){ var s = el.querySelector('.cm-scen-pick'); s.value = j;
      s.dispatchEvent(new Event('change')); },
    markers: function(after){
      var out = [];
      (after ? gA : gB).eachLayer(function(l){
        if (l.cmName !== undefined) out.push({name: l.cmName, min: l.cmMin,
          tip: l.getTooltip().getContent(), ll: [l.getLatLng().lat, l.getLatLng().lng]});
      });
      return out;
    }
  };
})();
