(function(){
  // Live "what if" weights: the MCDA of contigmap.priority.mcda on the exported
  // normalised criteria (see render/web_weights.py for the formula and its order).
  var map = $map;
  var D = $data;
  var IVS = D.ivs;

  function pairwiseSum(a){  // numpy's add.reduce of a short float64 array
    var n = a.length, i, j, res;
    if (n < 8) { res = -0.0; for (i = 0; i < n; i++) res += a[i]; return res; }
    if (n <= 128) {
      var r = a.slice(0, 8), m = n - n % 8;
      for (i = 8; i < m; i += 8) for (j = 0; j < 8; j++) r[j] += a[i + j];
      res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
      for (i = m; i < n; i++) res += a[i];
      return res;
    }
    var h = Math.floor(n / 2); h -= h % 8;
    return pairwiseSum(a.slice(0, h)) + pairwiseSum(a.slice(h));
  }
  function rint(y){  // round half to even, as numpy
    var r = Math.round(y);
    if (Math.abs(y % 1) === 0.5 && r % 2 !== 0) r -= 1;
    return r;
  }
  function round9(x){ return rint(x * 1e9) / 1e9; }

  // need, rank and tier of intervention P under weights w (array in P.criteria order)
  function rank(P, w){
    var used = [], wu = [], j, i, k;
    for (j = 0; j < w.length; j++) if (w[j] > 0) { used.push(j); wu.push(+w[j]); }
    if (!used.length) return null;
    var s = pairwiseSum(wu), wn = wu.map(function(x){ return x / s; });
    var n = P.ids.length, need = new Array(n), key = new Array(n), order = new Array(n);
    for (i = 0; i < n; i++) {
      var q = 0.0;
      for (k = 0; k < used.length; k++) q += 100.0 * wn[k] * P.N[used[k]][i];
      need[i] = q; key[i] = -round9(q); order[i] = i;
    }
    order.sort(function(a, b){ return (key[a] - key[b]) || (P.idr[a] - P.idr[b]); });
    var rk = new Array(n), tier = new Array(n);
    for (i = 0; i < n; i++) rk[order[i]] = i + 1;
    if (!P.basis) {
      for (i = 0; i < n; i++) tier[i] = Math.floor((rk[i] - 1) * P.tiers / n) + 1;
    } else if (P.basis === 'budget') {  // funded in rank order: within, twice, later
      var cum = 0.0;
      for (k = 0; k < n; k++) {
        i = order[k]; cum += P.cost[i];
        tier[i] = !P.works[i] ? 0 : cum <= P.budget ? 1 : cum <= 2 * P.budget ? 2 : 3;
      }
    } else {  // need groups among the units that need works
      var m = 0, g = 0;
      for (i = 0; i < n; i++) if (P.works[i]) m++;
      for (k = 0; k < n; k++) {
        i = order[k];
        tier[i] = P.works[i] ? Math.floor(g++ * P.tiers / m) + 1 : 0;
      }
    }
    return {need: need, rank: rk, tier: tier, order: order};
  }

  // ---- YAML of the whole configuration with the slider weights ----
  function num(x){
    if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
    var s = String(x);
    if (s.indexOf('e') < 0) return s;
    var p = s.split('e'), mant = p[0].indexOf('.') < 0 ? p[0] + '.0' : p[0];
    var ex = p[1].charAt(0) === '-' || p[1].charAt(0) === '+' ? p[1] : '+' + p[1];
    return mant + 'e' + ex;
  }
  function scalar(v){
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'number') return num(v);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (Array.isArray(v)) return '[' + v.map(scalar).join(', ') + ']';
    return JSON.stringify(String(v));
  }
  function yamlOf(obj, indent){
    var out = [];
    Object.keys(obj).forEach(function(k){
      var v = obj[k], key = /^[A-Za-z_][A-Za-z0-9_]*$$/.test(k) ? k : JSON.stringify(k);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        if (!Object.keys(v).length) { out.push(indent + key + ': {}'); return; }
        out.push(indent + key + ':');
        out.push(yamlOf(v, indent + '  '));
      } else out.push(indent + key + ': ' + scalar(v));
    });
    return out.join('\n');
  }
  var state = {};  // iv -> current weights (array)
  IVS.forEach(function(P){ state[P.iv] = P.criteria.map(function(c){ return c.w; }); });
  function yaml(){
    var cfg = JSON.parse(JSON.stringify(D.config));
    IVS.forEach(function(P){
      var sec = cfg[P.iv]; if (!sec) return;
      P.criteria.forEach(function(c, j){ sec.weights[c.name] = state[P.iv][j]; });
    });
    return '# priorities.yaml exported from the map\'s what-if weights panel\n' +
      '# use: contigmap priorities <region.yaml> --priorities priorities.yaml\n' +
      yamlOf(cfg, '') + '\n';
  }

  // ---- restyle the tier layer and fill the list ----
  var V = window.cmVillages;
  function restyle(P, res){
    if (!V || P.layer < 0 || !res) return;
    var ly = V.layers[P.layer], c = ly.c.slice(), pal = ly.pal.slice(), idx = {};
    pal.forEach(function(col, k){ idx[col] = k; });
    Object.keys(P.colours).forEach(function(t){
      var col = P.colours[t]; if (!(col in idx)) { idx[col] = pal.length; pal.push(col); }
    });
    for (var i = 0; i < P.m.length; i++) {
      if (P.m[i] >= 0) c[P.m[i]] = idx[P.colours[String(res.tier[i])]];
    }
    ly.pal = pal; ly.c = c;  // markers built later read these
    (V.markers[P.layer] || []).forEach(function(mk, i){ mk.setStyle({fillColor: pal[c[i]]}); });
  }

  var base = {}, last = {}, ui = {};
  IVS.forEach(function(P){ base[P.iv] = rank(P, state[P.iv]); last[P.iv] = base[P.iv]; });
  function byName(iv){ for (var i = 0; i < IVS.length; i++) if (IVS[i].iv === iv) return IVS[i]; }

  function update(P){
    var res = rank(P, state[P.iv]);
    if (ui.iv === P.iv) {
      ui.warn.style.display = res ? 'none' : '';
      if (res) showList(P, res);
    }
    if (!res) return null;
    last[P.iv] = res; restyle(P, res);
    return res;
  }
  function showList(P, res){
    var ol = ui.list; ol.textContent = '';
    var b = base[P.iv];
    for (var k = 0; k < Math.min(D.topN, res.order.length); k++) {
      var i = res.order[k], li = el('div', 'cm-w-item');
      el('span', 'cm-w-rank', li, String(k + 1));
      var nm = document.createElement('span'); nm.className = 'cm-w-name'; nm.textContent = P.names[i];
      var sc = document.createElement('span'); sc.className = 'cm-w-score';
      sc.textContent = res.need[i].toFixed(1);
      var mv = document.createElement('span'); mv.className = 'cm-w-move';
      var d = b.rank[i] - res.rank[i];
      mv.textContent = d > 0 ? '↑' + d : d < 0 ? '↓' + (-d) : '';
      mv.className += d > 0 ? ' cm-w-up' : d < 0 ? ' cm-w-down' : '';
      li.appendChild(nm); li.appendChild(sc); li.appendChild(mv);
      li.setAttribute('data-id', P.ids[i]);
      ol.appendChild(li);
    }
  }

  function el(tag, cls, parent, txt){
    var e = document.createElement(tag); if (cls) e.className = cls;
    if (txt !== undefined) e.textContent = txt; if (parent) parent.appendChild(e); return e;
  }
  function shares(P){
    var w = state[P.iv], tot = 0;
    w.forEach(function(x){ tot += x; });
    ui.rows.querySelectorAll('output').forEach(function(o, j){
      o.textContent = tot > 0 ? Math.round(100 * w[j] / tot) + '%' : '0%';
    });
  }
  function build(box, P){
    ui.iv = P.iv; ui.rows.textContent = '';
    // one scale for every slider of an intervention: 0 to its largest weight (at least 1)
    var top = Math.max.apply(null, [1].concat(P.criteria.map(function(c){ return c.w; })));
    P.criteria.forEach(function(c, j){
      var row = el('label', 'cm-w-row', ui.rows);
      var lab = el('span', 'cm-w-label', row, c.zh);
      row.title = c.zh + (c.en ? ' — ' + c.en : '') + (c.unit ? ' (' + c.unit + ')' : '');
      if (c.en) el('small', '', lab, c.en);
      var inp = el('input', '', row); inp.type = 'range'; inp.min = '0';
      inp.max = String(top); inp.step = String(top / 100); inp.value = String(state[P.iv][j]);
      inp.setAttribute('data-criterion', c.name);
      el('output', 'cm-w-val', row);
      inp.addEventListener('input', function(){
        state[P.iv][j] = parseFloat(inp.value); shares(P); update(P);
      });
    });
    shares(P); update(P);
  }
  function showLayer(P){
    if (!V || P.layer < 0) return;
    V.layers.forEach(function(ly, k){
      if (k !== P.layer && map.hasLayer(ly.fg)) map.removeLayer(ly.fg);
    });
    if (!map.hasLayer(V.layers[P.layer].fg)) map.addLayer(V.layers[P.layer].fg);
  }

  var ctl = L.control({position: 'topleft'});
  ctl.onAdd = function(){
    var box = L.DomUtil.create('details', 'cm-weights');
    box.id = 'cm-weights';
    var sm = el('summary', '', box, '权重模拟 ');
    el('small', '', sm, 'What-if weights');
    var sel = el('select', 'cm-w-select', box); sel.id = 'cm-w-select';
    IVS.forEach(function(P){
      var o = el('option', '', sel, P.zh + ' ' + P.en); o.value = P.iv;
    });
    if (IVS.length < 2) sel.style.display = 'none';
    ui.rows = el('div', 'cm-w-rows', box);
    ui.warn = el('div', 'cm-w-warn', box, '至少一个权重须大于0 At least one weight must be above 0');
    ui.warn.style.display = 'none';
    var bar = el('div', 'cm-w-buttons', box);
    var reset = el('button', '', bar, '恢复 Reset'); reset.type = 'button';
    var exp = el('button', '', bar, '导出权重 YAML'); exp.type = 'button';
    var head = el('div', 'cm-w-head', box, '需求最高的前' + D.topN + '个村 ');
    el('small', '', head, 'Top ' + D.topN + ' by need · 得分 score · 箭头：与原权重比 arrows: vs the configured weights');
    ui.list = el('div', 'cm-w-list', box);
    ui.text = el('textarea', 'cm-w-yaml', box); ui.text.readOnly = true;
    ui.text.style.display = 'none';
    sel.addEventListener('change', function(){ var P = byName(sel.value); build(box, P); showLayer(P); });
    reset.addEventListener('click', function(){
      var P = byName(ui.iv); state[P.iv] = P.criteria.map(function(c){ return c.w; }); build(box, P);
    });
    exp.addEventListener('click', function(){
      var t = yaml(); ui.text.value = t; ui.text.style.display = '';
      try {
        var a = document.createElement('a');
        a.href = URL.createObjectURL(new Blob([t], {type: 'text/yaml'}));
        a.download = 'priorities.yaml'; document.body.appendChild(a); a.click(); a.remove();
      } catch (e) { /* the text box still holds the file */ }
    });
    box.addEventListener('toggle', function(){ if (box.open) showLayer(byName(ui.iv)); });
    L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
    build(box, IVS[0]);
    return box;
  };
  ctl.addTo(map);

  window.cmWeights = {
    ivs: IVS.map(function(P){ return P.iv; }),
    rank: function(iv, w){ var P = byName(iv); return rank(P, P.criteria.map(function(c){
      return +(w[c.name] || 0); })); },
    set: function(iv, w){
      var P = byName(iv);
      state[iv] = P.criteria.map(function(c){ return +(w[c.name] || 0); });
      if (ui.iv === iv) {
        ui.rows.querySelectorAll('input').forEach(function(inp, j){
          inp.value = String(state[iv][j]);
        });
        shares(P);
      }
      return update(P);
    },
    yaml: yaml
  };
})();
