(function(){
  // The print/export sheet (web_print.py). Data text is written with textContent only.
  var map = $map;
  var D = $data;
  var PX_M = $px_m;             // metres of paper per CSS pixel (1/96 inch)
  var EARTH = 40075016.686;     // Web Mercator circumference at the equator, metres
  var st = null;                // state while the sheet is shown
  function el(tag, cls, parent, txt){
    var e = document.createElement(tag); if (cls) e.className = cls;
    if (txt !== undefined) e.textContent = txt; if (parent) parent.appendChild(e); return e;
  }
  function theme(){
    var inp = document.querySelector('.cm-lyr-themes input:checked');
    if (inp && inp.parentNode) return inp.parentNode.textContent.trim();
    var t = document.querySelector('.cm-legends .cm-legend:not([style*="none"]) .cm-legend-title');
    return t ? t.textContent.trim() : '';
  }
  function fmt(n){ return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' '); }
  function sig3(n){ var p = Math.pow(10, Math.max(0, Math.floor(Math.log10(n)) - 2));
    return Math.round(n / p) * p; }
  function scale(){
    var z = map.getZoom(), lat = map.getCenter().lat;
    var mpp = EARTH * Math.cos(lat * Math.PI / 180) / (256 * Math.pow(2, z));
    var maxM = mpp * 170, k = Math.pow(10, Math.floor(Math.log10(maxM)));
    var nice = [5, 2, 1].map(function(f){ return f * k; }).filter(function(v){ return v <= maxM; })[0];
    return {mpp: mpp, n: sig3(mpp / PX_M), barM: nice, barPx: nice / mpp};
  }
  function len(m){ return m >= 1000 ? (m / 1000) + ' km' : m + ' m'; }
  function drawScale(){
    if (!st) return;
    var s = scale(); st.scale = s;
    st.ratio.textContent = '比例尺 1:' + fmt(s.n);
    st.bar.style.width = s.barPx + 'px'; st.barl.style.width = s.barPx + 'px';
    st.barl.children[1].textContent = len(s.barM / 2); st.barl.children[2].textContent = len(s.barM);
  }
  function north(parent){
    var d = el('div', 'cm-sheet-north', parent);
    d.innerHTML = '<svg viewBox="0 0 24 32"><polygon points="12,2 20,28 12,22" fill="#111"/>' +
      '<polygon points="12,2 4,28 12,22" fill="#fff" stroke="#111" stroke-width="1"/></svg>N';
    d.title = '指北针 North';
  }
  function today(){
    var d = new Date(), p = function(n){ return (n < 10 ? '0' : '') + n; };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
  }
  function row(tbl, k, v){ var tr = el('tr', '', tbl); el('th', '', tr, k); return el('td', '', tr, v); }
  function build(){
    var bar = el('div', 'cm-print-bar', document.body);
    el('span', '', bar, '打印预览 Print preview');
    var sel = el('select', 'cm-print-size', bar);
    ['A4', 'A3'].forEach(function(s){ var o = el('option', '', sel, s + ' 横向 landscape'); o.value = s; });
    sel.onchange = function(){ size(sel.value); };
    // what the sheet shows: the whole county (a 规划图 shows the planning area) or this view
    var ext = el('select', 'cm-print-extent', bar);
    [['county', '县域全图 whole county'], ['view', '当前视图 current view']].forEach(function(x){
      var o = el('option', '', ext, x[1]); o.value = x[0]; });
    ext.onchange = function(){ if (st) { st.extent = ext.value; size(parts.sel.value); } };
    // the date printed: the build date when the map carries one, else today, editable
    el('label', 'cm-print-datel', bar, '日期');
    var date = el('input', 'cm-print-date', bar); date.type = 'date';
    date.value = D.date || today();
    date.oninput = function(){ dateCell.textContent = date.value; };
    el('button', 'cm-print-go', bar, '打印/导出 Print').onclick = function(){ window.print(); };
    el('button', 'cm-print-close', bar, '返回地图 Back').onclick = close;
    var sheet = el('div', 'cm-sheet', document.body);
    var head = el('div', 'cm-sheet-head', sheet);
    el('h1', '', head, D.title);
    var sub = el('div', 'cm-sheet-sub', head);
    var frame = el('div', 'cm-sheet-frame', sheet);
    north(frame);
    var side = el('div', 'cm-sheet-side', sheet);
    var lg = el('div', 'cm-sheet-legend', side); el('h2', '', lg, '图例');
    var sc = el('div', 'cm-sheet-scale', side); el('h2', '', sc, '比例尺');
    var ratio = el('div', 'cm-sheet-ratio', sc);
    var b = el('div', 'cm-sheet-bar', sc); for (var i = 0; i < 4; i++) el('span', '', b);
    var bl = el('div', 'cm-sheet-barl', sc); el('span', '', bl, '0'); el('span', '', bl); el('span', '', bl);
    var info = el('table', 'cm-sheet-info', side);
    row(info, '编制单位', D.issuer);
    var dateCell = row(info, '日期', date.value);
    row(info, '审图号', '');
    var note = row(info, '数据', '');
    if (D.badge) el('span', 'cm-sheet-badge', note, D.badge);
    el('span', '', note, D.note);
    return {bar: bar, sel: sel, ext: ext, date: date, sheet: sheet, sub: sub, frame: frame, legend: lg, ratio: ratio,
            bar_: b, barl: bl};
  }
  var parts = null;
  function size(s){
    document.body.classList.toggle('cm-print-a3', s === 'A3');
    var old = document.getElementById('cm-page-a3'); if (old) old.remove();
    if (s === 'A3') el('style', '', document.head, '@page { size: A3 landscape; margin: 0; }').id = 'cm-page-a3';
    if (parts) parts.sel.value = s;
    if (st) {
      map.invalidateSize(false);
      var to = (st.extent === 'view' || !D.extent) ? st.bounds : D.extent;
      map.fitBounds(to, {animate: false, padding: [8, 8]});
      drawScale();
    }
  }
  function open(paper){
    if (st) return;
    if (!parts) parts = build();
    var c = map.getContainer();
    st = {bounds: map.getBounds(), center: map.getCenter(), zoom: map.getZoom(),
          parent: c.parentNode, next: c.nextSibling, extent: parts.ext.value,
          ratio: parts.ratio, bar: parts.bar_, barl: parts.barl};
    parts.sub.textContent = theme();
    while (parts.legend.children.length > 1) parts.legend.removeChild(parts.legend.lastChild);
    document.querySelectorAll('.cm-legends .cm-legend').forEach(function(l){
      if (l.style.display === 'none') return;
      var copy = l.cloneNode(true); copy.removeAttribute('style'); parts.legend.appendChild(copy);
    });
    parts.frame.insertBefore(c, parts.frame.firstChild);
    document.body.classList.add('cm-print');
    map.on('zoomend moveend', drawScale);
    size(paper || (parts.sel.value || 'A4'));
    window.scrollTo(0, 0);
    // once the sheet is laid out, fit again: the first fit saw the full-screen container
    setTimeout(function(){ if (st) size(parts.sel.value); }, 100);
  }
  function close(){
    if (!st) return;
    map.off('zoomend moveend', drawScale);
    document.body.classList.remove('cm-print', 'cm-print-a3');
    var old = document.getElementById('cm-page-a3'); if (old) old.remove();
    st.parent.insertBefore(map.getContainer(), st.next);
    var s = st; st = null;
    map.invalidateSize(false); map.setView(s.center, s.zoom, {animate: false});
  }
  var pc = L.control({position: 'topleft'});
  pc.onAdd = function(){
    var d = L.DomUtil.create('div', 'cm-print-btn leaflet-bar');
    var a = L.DomUtil.create('a', '', d); a.href = '#'; a.role = 'button';
    a.textContent = '打印/导出 Print'; a.title = '打印或导出为 PDF 的规划图 Print or save as PDF';
    L.DomEvent.on(a, 'click', function(e){
      L.DomEvent.stop(e); open(); setTimeout(function(){ window.print(); }, 300); });
    L.DomEvent.disableClickPropagation(d);
    return d;
  };
  pc.addTo(map);
  window.cmPrint = {open: open, close: close, size: size,
                    scale: function(){ return st ? st.scale : scale(); }};
})();
