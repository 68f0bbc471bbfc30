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
  // the layer list in groups with headings; village themes one at a time (radio)
  // headings from Python (web_page.LAYER_GROUPS); a layer's group is set where it is
  // drawn, and guessed from its name only for layers a user adds
  var GUESS = {base: /tianditu|openstreetmap|boundar|township names|county|边界|界/i,
               network: /road|footpath|travel|bridge|segment|service|道路|路|桥/i,
               hazards: /hazard|flood|landslide|ecolog|reserve|redline|灾|洪|滑坡|生态|保护/i,
               interv: /priority|tier|hamlet|water|power|broadband|优先/i,
               reloc: /relocat|resettle|site|搬迁|安置/i,
               scen: /scenario|情景/i};
  var GROUPS = $headings;
  var SET = $groups;
  var themeIds = V ? V.layers.map(function(ly){ return L.stamp(ly.fg); }) : [];
  var setIds = {};
  Object.keys(SET).forEach(function(n){ if (window[n]) setIds[L.stamp(window[n])] = SET[n]; });
  function groupOf(name, id){
    if (themeIds.indexOf(id) >= 0) return 'themes';
    if (setIds[id]) return setIds[id];
    var txt = String(name).replace(/<[^>]*>/g, '');
    var order = ['scen', 'reloc', 'interv', 'hazards'];
    for (var g = 0; g < order.length; g++) if (GUESS[order[g]].test(txt)) return order[g];
    if (GUESS.network.test(txt)) return 'network';
    return 'base';
  }
  window.cmDecorateLayers = function(ctl){
    var list = ctl._overlaysList; if (!list) return;
    var labels = Array.prototype.slice.call(list.children).filter(function(el){
      return el.tagName === 'LABEL'; });
    var byGroup = {};
    labels.forEach(function(lab){
      var inp = lab.querySelector('input'); var obj = ctl._getLayer(inp.layerId);
      var g = groupOf(obj ? obj.name : lab.textContent, inp.layerId);
      if (g === 'themes') { inp.type = 'radio'; inp.name = 'cm-theme'; }
      lab.className = 'cm-lyr cm-lyr-' + g;
      (byGroup[g] = byGroup[g] || []).push(lab);
    });
    while (list.firstChild) list.removeChild(list.firstChild);
    GROUPS.forEach(function(gr){
      var labs = byGroup[gr[0]]; if (!labs) return;
      var h = L.DomUtil.create('div', 'cm-lyr-head', list); h.textContent = gr[1];
      labs.forEach(function(lab){ list.appendChild(lab); });
    });
  };
  if (window.cmLayerControl) window.cmLayerControl._update();
  // a click on the layers button (phone: a tap) opens the list and never hits a layer
  var btn = document.querySelector('.leaflet-control-layers-toggle');
  var ctl = window.cmLayerControl;
  if (btn) L.DomEvent.on(btn, 'click', function(e){
    L.DomEvent.stop(e); if (ctl) ctl.expand(); });
  // on a phone the list folds into its button, and a tap on the map folds it again
  function foldOnPhone(e){
    if (!ctl) return;
    if (window.innerWidth < 700) ctl.collapse();
    else if (!ctl.options.collapsed && (!e || e.type === 'resize')) ctl.expand();
  }
  if (ctl) map.on('click', foldOnPhone);
  map.on('resize', foldOnPhone); foldOnPhone();

  // the title names the village theme shown
  var titleBox = document.querySelector('.cm-title');
  var themeEl = null;
  if (titleBox && V) {
    themeEl = document.createElement('div'); themeEl.className = 'cm-theme';
    titleBox.insertBefore(themeEl, titleBox.children[1] || null);
  }
  function syncTheme(){
    if (!themeEl) return;
    var shown = V.layers.filter(function(ly){ return map.hasLayer(ly.fg); });
    themeEl.innerHTML = shown.length ? '专题 Theme: ' + shown.map(function(ly){
      return ly.n; }).join('、') : '';
  }
  map.on('overlayadd overlayremove', syncTheme); syncTheme();
  if (!V) return;
  var sc = L.control({position: 'topleft'});
  sc.onAdd = function(){
    var d = L.DomUtil.create('div', 'cm-search leaflet-bar');
    var inp = L.DomUtil.create('input', '', d);
    inp.type = 'search'; inp.id = 'cm-search-input';
    inp.placeholder = '搜索：村名、代码、乡镇、拼音';
    inp.title = '村名、村代码、乡镇名或拼音（如 shibadong、sbdc） Search by name, code, township or pinyin';
    inp.setAttribute('list', 'cm-search-list');
    var dl = L.DomUtil.create('datalist', '', d); dl.id = 'cm-search-list';
    V.data.q.forEach(function(s){
      var o = document.createElement('option'); o.value = s; dl.appendChild(o);
    });
    function go(){
      var q = inp.value.trim(); if (!q) return;
      var i = V.data.q.indexOf(q);
      var ql = q.toLowerCase();  // as typed, then pinyin typed with spaces ('shi ba dong')
      [[V.data.q, ql], [V.data.k, ql], [V.data.k, ql.replace(/\s+/g, '')]].forEach(function(a){
        for (var k = 0; k < a[0].length && i < 0; k++) {
          if (a[0][k].toLowerCase().indexOf(a[1]) >= 0) i = k;
        }
      });
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
