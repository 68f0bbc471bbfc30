/* contigmap serve: the road-scenario editor (Leaflet). Every value from the server is
   shown with textContent or as Leaflet styles, never as markup. */
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var token = params.get("token");
  var S = { session: null, map: null, roads: {}, villages: {}, selected: null, mode: null,
            clicks: [], busStops: [], marks: [], lastYaml: null, last: null, busy: false,
            saved: [], style: null };
  window.cmServe = S;

  var CLASS_ZH = { expressway: "高速", national: "国道", provincial: "省道", county: "县道",
    township: "乡道", village: "村道", track: "机耕道", path: "小路" };
  var SURF_ZH = { paved: "硬化", gravel: "砂石", earth: "土路" };
  /* the web map's road styles (render/web_layers.py), replaced by /api/region's "style" */
  var CLASS_W = { expressway: 5, national: 4.5, provincial: 4, county: 3.2, township: 2.4,
    village: 1.8, track: 1.3, path: 1.2 };
  var SURF_C = { paved: "#2b2b2b", gravel: "#a0522d", earth: "#c8a165" };
  var FOOT_C = "#6b8e23";

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function headers(json) {
    var h = {};
    if (json) { h["Content-Type"] = "application/json"; }
    if (S.session) { h["X-Session"] = S.session; }
    if (token) { h["X-Token"] = token; }
    return h;
  }
  function api(method, path, body) {
    var opts = { method: method, headers: headers(body !== undefined) };
    if (body !== undefined) { opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      var ct = r.headers.get("content-type") || "";
      var p = ct.indexOf("json") >= 0 ? r.json() : r.text();
      return p.then(function (data) {
        if (!r.ok) { throw new Error((data && data.error) || ("HTTP " + r.status)); }
        return data;
      });
    });
  }
  function msg(text, ok) {
    var m = document.getElementById("msg");
    m.textContent = text || "";
    m.className = ok ? "ok" : "";
  }
  function fmt(v, digits) {
    if (v === null || v === undefined) { return "—"; }
    return Number(v).toLocaleString("zh-CN", { maximumFractionDigits: digits || 0 });
  }
  function minutes(d) {
    if (d === null || d === undefined) { return "—"; }
    if (d === 0) { return "0"; }
    return (d > 0 ? "+" : "") + fmt(d, 1) + " 分";
  }

  /* ---------------------------------------------------------------- panel */
  function buildPanel() {
    var p = document.getElementById("panel");
    p.appendChild(el("h2", { id: "title" }, "道路情景编辑"));
    var sec = el("div", { class: "cm-row" });
    sec.appendChild(el("label", { for: "season" }, "季节 "));
    var season = el("select", { id: "season" });
    season.appendChild(el("option", { value: "dry" }, "旱季"));
    season.appendChild(el("option", { value: "rainy" }, "雨季"));
    sec.appendChild(season);
    p.appendChild(sec);
    season.addEventListener("change", function () { send({ kind: "season", season: season.value }); });

    p.appendChild(el("h3", {}, "选中道路"));
    p.appendChild(el("div", { id: "road-info" }, "点击地图上的道路"));
    var row = el("div", { class: "cm-row" });
    var cls = el("select", { id: "sel-class" });
    cls.appendChild(el("option", { value: "" }, "等级不变"));
    Object.keys(CLASS_ZH).forEach(function (k) { cls.appendChild(el("option", { value: k }, CLASS_ZH[k])); });
    var srf = el("select", { id: "sel-surface" });
    srf.appendChild(el("option", { value: "" }, "路面不变"));
    Object.keys(SURF_ZH).forEach(function (k) { srf.appendChild(el("option", { value: k }, SURF_ZH[k])); });
    srf.value = "paved";
    row.appendChild(cls); row.appendChild(srf);
    p.appendChild(row);
    var row2 = el("div", { class: "cm-row" });
    var up = el("button", { id: "btn-upgrade", disabled: "disabled" }, "升级改造");
    var close = el("button", { id: "btn-close", disabled: "disabled" }, "封闭道路");
    row2.appendChild(up); row2.appendChild(close);
    p.appendChild(row2);
    up.addEventListener("click", function () {
      if (!S.selected) { return; }
      var body = { kind: "upgrade", roads: [S.selected] };
      if (cls.value) { body.road_class = cls.value; }
      if (srf.value) { body.surface = srf.value; }
      send(body);
    });
    close.addEventListener("click", function () {
      if (S.selected) { send({ kind: "close", roads: [S.selected] }); }
    });

    p.appendChild(el("h3", {}, "新建与公交"));
    var row3 = el("div", { class: "cm-row" });
    var draw = el("button", { id: "btn-draw" }, "新建道路（点击两个路口）");
    var bus = el("button", { id: "btn-bus" }, "公交线路（点击站点）");
    var busDone = el("button", { id: "btn-bus-done", disabled: "disabled" }, "完成公交");
    var freq = el("input", { id: "bus-freq", type: "number", min: "1", max: "100", value: "4",
                             style: "width:4em", title: "每日班次" });
    row3.appendChild(draw); row3.appendChild(bus); row3.appendChild(busDone);
    row3.appendChild(el("span", {}, " 每日班次 ")); row3.appendChild(freq);
    p.appendChild(row3);
    draw.addEventListener("click", function () { setMode(S.mode === "draw" ? null : "draw"); });
    bus.addEventListener("click", function () { setMode(S.mode === "bus" ? null : "bus"); });
    busDone.addEventListener("click", function () {
      if (!S.busStops.length) { return; }
      var stops = S.busStops.slice();
      setMode(null);
      send({ kind: "bus", stops: stops, frequency_per_day: Number(freq.value) || 4 });
    });

    var row4 = el("div", { class: "cm-row" });
    var undo = el("button", { id: "btn-undo", disabled: "disabled" }, "撤销");
    var redo = el("button", { id: "btn-redo", disabled: "disabled" }, "重做");
    var save = el("button", { id: "btn-save" }, "保存 YAML");
    var file = el("input", { id: "load-file", type: "file", accept: ".yaml,.yml", style: "width:12em" });
    row4.appendChild(undo); row4.appendChild(redo); row4.appendChild(save);
    p.appendChild(row4);
    var row5 = el("div", { class: "cm-row" });
    row5.appendChild(el("span", {}, "载入 YAML ")); row5.appendChild(file);
    p.appendChild(row5);
    undo.addEventListener("click", function () { post("/api/undo"); });
    redo.addEventListener("click", function () { post("/api/redo"); });
    save.addEventListener("click", saveYaml);
    file.addEventListener("change", function () {
      if (!file.files.length) { return; }
      var f = file.files[0];
      f.text().then(function (text) {
        return post("/api/load", { yaml: text }).then(function () {
          if (S.last && S.last.edits.length) { remember("载入 " + f.name, text); }
        });
      });
    });
    p.appendChild(el("div", { id: "msg" }));

    p.appendChild(el("h3", {}, "情景主要指标"));
    var head = el("div", { class: "cm-head" });
    [["h-poor", "受益贫困人口"], ["h-cut", "断路人口"], ["h-cost", "投资（万元）"],
     ["h-per", "每受益贫困人口投资（元）"], ["h-changed", "时间变化的村"], ["h-ms", "服务器用时（毫秒）"]
    ].forEach(function (pair) {
      head.appendChild(el("span", {}, pair[1]));
      head.appendChild(el("span", { id: pair[0], class: "v" }, "—"));
    });
    p.appendChild(head);
    var leg = el("div", { class: "cm-legend" }, "到乡镇驻地时间变化：");
    [["#1a9850", "快 ≥10 分"], ["#91cf60", "快"], ["#999999", "不变"], ["#fc8d59", "慢"],
     ["#000000", "断路"]].forEach(function (pair) {
      leg.appendChild(el("span", { style: "background:" + pair[0] }));
      leg.appendChild(document.createTextNode(pair[1]));
    });
    p.appendChild(leg);
    p.appendChild(el("h3", {}, "受影响最大的村（到乡镇 / 到县城）"));
    p.appendChild(el("ol", { id: "top" }));
    p.appendChild(el("h3", {}, "已做的修改"));
    p.appendChild(el("ol", { id: "edits" }));
    buildCompare(p);
  }

  /* ---------------------------------------------------------------- compare */
  function buildCompare(p) {
    p.appendChild(el("h3", {}, "情景对比（本页保存、载入或记下的情景）"));
    var row = el("div", { class: "cm-row" });
    var note = el("button", { id: "btn-note" }, "记下当前情景");
    row.appendChild(note);
    p.appendChild(row);
    var row2 = el("div", { class: "cm-row" });
    row2.appendChild(el("span", {}, "A "));
    row2.appendChild(el("select", { id: "cmp-a" }));
    row2.appendChild(el("span", {}, " B "));
    row2.appendChild(el("select", { id: "cmp-b" }));
    p.appendChild(row2);
    var go = el("button", { id: "btn-compare", disabled: "disabled" }, "对比");
    p.appendChild(go);
    p.appendChild(el("table", { id: "cmp-table", class: "cm-cmp" }));
    p.appendChild(el("div", { id: "cmp-n" }));
    p.appendChild(el("ol", { id: "cmp-villages" }));
    note.addEventListener("click", function () {
      fetchYaml().then(function (text) {
        remember("记下 " + new Date().toLocaleTimeString("zh-CN"), text);
        msg("已记下当前情景", true);
      }).catch(function (err) { msg("无法记下：" + err.message); });
    });
    go.addEventListener("click", compare);
  }
  function remember(label, text) {
    S.saved.push({ name: label + "（" + (S.last ? S.last.edits.length : 0) + " 项修改）", yaml: text });
    ["cmp-a", "cmp-b"].forEach(function (id, k) {
      var sel = document.getElementById(id);
      sel.textContent = "";
      S.saved.forEach(function (sc, i) { sel.appendChild(el("option", { value: String(i) }, sc.name)); });
      sel.value = String(k === 0 ? Math.max(S.saved.length - 2, 0) : S.saved.length - 1);
    });
    document.getElementById("btn-compare").disabled = S.saved.length < 2;
  }
  function compare() {
    var a = S.saved[Number(document.getElementById("cmp-a").value)];
    var b = S.saved[Number(document.getElementById("cmp-b").value)];
    if (!a || !b) { return; }
    S.busy = true;
    api("POST", "/api/compare", { a: a.yaml, b: b.yaml })
      .then(function (data) { showCompare(data, a.name, b.name); })
      .catch(function (err) { msg("无法对比：" + err.message); })
      .then(function () { S.busy = false; });
  }
  function showCompare(data, nameA, nameB) {
    var t = document.getElementById("cmp-table");
    t.textContent = "";
    var head = el("tr");
    head.appendChild(el("th", {}, ""));
    head.appendChild(el("th", {}, "A " + nameA));
    head.appendChild(el("th", {}, "B " + nameB));
    t.appendChild(head);
    [["poor_gaining", "受益贫困人口", 0], ["pop_gaining", "受益人口", 0],
     ["pop_cut_off", "断路人口", 0], ["cost_wan", "投资（万元）", 1],
     ["cost_per_poor_gaining_yuan", "每受益贫困人口投资（元）", 0],
     ["villages_changed", "时间变化的村", 0]].forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("td", {}, r[1]));
      tr.appendChild(el("td", { class: "v" }, fmt(data.a.headline[r[0]], r[2])));
      tr.appendChild(el("td", { class: "v" }, fmt(data.b.headline[r[0]], r[2])));
      t.appendChild(tr);
    });
    document.getElementById("cmp-n").textContent = "两情景间时间不同的村：" + fmt(data.n_differ) +
      (data.n_differ > data.differ.length ? "（列出前 " + data.differ.length + " 个）" : "");
    var ol = document.getElementById("cmp-villages");
    ol.textContent = "";
    data.differ.forEach(function (v) {
      ol.appendChild(el("li", {}, v.name + "  到乡镇 A " + fmt(v.a_own, 1) + " / B " +
        fmt(v.b_own, 1) + " 分，到县城 A " + fmt(v.a_county, 1) + " / B " + fmt(v.b_county, 1) + " 分"));
    });
    msg("已对比（" + fmt(data.server_ms, 1) + " 毫秒）", true);
  }

  function setMode(mode) {
    S.mode = mode; S.clicks = []; S.busStops = [];
    S.marks.forEach(function (m) { S.map.removeLayer(m); }); S.marks = [];
    document.getElementById("btn-draw").className = mode === "draw" ? "on" : "";
    document.getElementById("btn-bus").className = mode === "bus" ? "on" : "";
    document.getElementById("btn-bus-done").disabled = mode !== "bus";
    if (mode === "draw") { msg("点击新道路的起点路口，再点击终点路口", true); }
    else if (mode === "bus") { msg("依次点击公交站点，然后点“完成公交”", true); }
  }

  /* ---------------------------------------------------------------- map */
  function roadStyle(p, mark) {
    var s = { color: p.cls === "path" ? FOOT_C : (SURF_C[p.srf] || "#555555"),
              weight: CLASS_W[p.cls] || 1.5, opacity: 0.9, lineCap: "round", lineJoin: "round",
              dashArray: p.cls === "path" ? "4 4" : null };
    if (mark === "close") { s.color = "#d7191c"; s.dashArray = "4 4"; s.weight += 1.5; }
    else if (mark === "upgrade") { s.color = "#1a9850"; s.weight += 1.5; }
    if (S.selected === p.id) { s.color = "#2c7bb6"; s.weight += 2; }
    return s;
  }
  function villageColor(v) {
    if (!v.change) { return "#999999"; }
    if (v.change.cut) { return "#000000"; }
    var d = v.change.d_own;
    if (d === null) { return v.change.own === null ? "#000000" : "#1a9850"; }
    if (d <= -10) { return "#1a9850"; }
    if (d < 0) { return "#91cf60"; }
    if (d > 0) { return "#fc8d59"; }
    return "#999999";
  }
  function restyle() {
    var marks = (S.last && S.last.road_marks) || {};
    Object.keys(S.roads).forEach(function (id) {
      var lyr = S.roads[id];
      lyr.setStyle(roadStyle(lyr.feature.properties, marks[id]));
    });
    Object.keys(S.villages).forEach(function (id) {
      var v = S.villages[id];
      v.layer.setStyle({ fillColor: villageColor(v), color: "#333" });
    });
    if (S.newRoads) { S.map.removeLayer(S.newRoads); }
    var lines = (S.last && S.last.new_roads) || [];
    S.newRoads = L.layerGroup(lines.map(function (ll) {
      return L.polyline(ll.map(function (p) { return [p[1], p[0]]; }),
                        { color: "#7b3294", weight: 4 });
    })).addTo(S.map);
    if (S.busLayer) { S.map.removeLayer(S.busLayer); }
    S.busLayer = L.layerGroup().addTo(S.map);
    ((S.last && S.last.bus_lines) || []).forEach(function (line, k) {
      var course = line.course.map(function (p) { return [p[1], p[0]]; });
      L.polyline(course, { color: "#e66101", weight: 4, opacity: 0.85, dashArray: "8 5",
                           className: "cm-bus" }).addTo(S.busLayer);
      line.stops.forEach(function (p, i) {
        L.circleMarker([p[1], p[0]], { radius: 6, weight: 2, color: "#e66101", fillColor: "#fff",
                                       fillOpacity: 1 })
          .bindTooltip(document.createTextNode("公交线路 " + (k + 1) + " 第 " + (i + 1) + " 站"))
          .addTo(S.busLayer);
      });
    });
  }
  function selectRoad(id) {
    S.selected = id;
    var p = S.roads[id].feature.properties;
    var info = document.getElementById("road-info");
    info.textContent = (p.name ? p.name + " · " : "") + "编号 " + p.id + " · " +
      (CLASS_ZH[p.cls] || p.cls) + " · " + (SURF_ZH[p.srf] || p.srf);
    document.getElementById("btn-upgrade").disabled = false;
    document.getElementById("btn-close").disabled = false;
    restyle();
  }
  function onMapClick(e) {
    var ll = [Number(e.latlng.lng.toFixed(7)), Number(e.latlng.lat.toFixed(7))];
    if (S.mode === "draw") {
      S.clicks.push(ll);
      S.marks.push(L.circleMarker(e.latlng, { radius: 5, color: "#7b3294" }).addTo(S.map));
      if (S.clicks.length === 2) {
        var body = { kind: "build", start: S.clicks[0], end: S.clicks[1] };
        setMode(null);
        send(body);
      }
    } else if (S.mode === "bus") {
      S.busStops.push(ll);
      S.marks.push(L.circleMarker(e.latlng, { radius: 5, color: "#e66101" }).addTo(S.map));
    }
  }
  function drawRegion(region) {
    document.getElementById("title").textContent = "道路情景编辑 · " + region.title;
    document.getElementById("season").value = region.season;
    var b = region.bounds;
    S.map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    var st = region.style || {};
    if (st.surface_colors) { SURF_C = st.surface_colors; CLASS_W = st.class_width; FOOT_C = st.footpath_color; }
    if (st.class_zh) { CLASS_ZH = st.class_zh; SURF_ZH = st.surface_zh; }
    S.style = st;
    [["townships", { color: "#807dba", weight: 1.6, dashArray: "6 4", fill: false }],
     ["county", { color: "#3f007d", weight: 3, fill: false }]].forEach(function (pair) {
      var sty = Object.assign({}, st[pair[0]] || pair[1], { fill: false });
      if (!region[pair[0]]) { return; }
      L.geoJSON(region[pair[0]], { style: function () { return sty; }, interactive: false })
        .addTo(S.map);
    });
    buildRoadLegend(region);
    L.geoJSON(region.roads, {
      style: function (f) { return roadStyle(f.properties); },
      onEachFeature: function (f, lyr) {
        S.roads[f.properties.id] = lyr;
        lyr.on("click", function (ev) {
          if (S.mode) { return; }  /* the map's click handler takes it */
          L.DomEvent.stopPropagation(ev);
          selectRoad(f.properties.id);
        });
      }
    }).addTo(S.map);
    region.villages.forEach(function (v) {
      var lyr = L.circleMarker([v.lat, v.lon], { radius: 5, weight: 1, fillOpacity: 0.9,
                                                  fillColor: "#999999", color: "#333" });
      lyr.bindTooltip(function () {
        var c = S.villages[v.id].change;
        var t = v.name + "：到乡镇 " + fmt(v.own, 0) + " 分";
        if (c) { t += "（" + minutes(c.d_own) + "），到县城 " + minutes(c.d_county); }
        return document.createTextNode(t);
      });
      lyr.addTo(S.map);
      S.villages[v.id] = { info: v, layer: lyr, change: null };
    });
  }

  function buildRoadLegend(region) {
    var present = {};
    region.roads.features.forEach(function (f) { present[f.properties.srf] = true; });
    var leg = el("div", { class: "cm-legend cm-roads" }, "道路路面：");
    Object.keys(SURF_C).forEach(function (k) {
      if (!present[k]) { return; }
      leg.appendChild(el("i", { style: "background:" + SURF_C[k] }));
      leg.appendChild(document.createTextNode(SURF_ZH[k] || k));
    });
    leg.appendChild(el("i", { style: "background:#1a9850" }));
    leg.appendChild(document.createTextNode("升级"));
    leg.appendChild(el("i", { style: "background:#d7191c" }));
    leg.appendChild(document.createTextNode("封闭"));
    leg.appendChild(el("i", { style: "background:#7b3294" }));
    leg.appendChild(document.createTextNode("新建"));
    leg.appendChild(el("i", { style: "background:#e66101" }));
    leg.appendChild(document.createTextNode("公交"));
    var head = document.querySelector("#panel .cm-legend");
    head.parentNode.insertBefore(leg, head);
  }

  /* ---------------------------------------------------------------- answers */
  function show(data) {
    S.last = data;
    Object.keys(S.villages).forEach(function (id) { S.villages[id].change = null; });
    data.villages.forEach(function (c) { if (S.villages[c.id]) { S.villages[c.id].change = c; } });
    var h = data.headline;
    document.getElementById("h-poor").textContent = fmt(h.poor_gaining);
    document.getElementById("h-cut").textContent = fmt(h.pop_cut_off);
    document.getElementById("h-cost").textContent = fmt(h.cost_wan, 1);
    document.getElementById("h-per").textContent = fmt(h.cost_per_poor_gaining_yuan);
    document.getElementById("h-changed").textContent = fmt(h.villages_changed);
    document.getElementById("h-ms").textContent = fmt(data.server_ms, 1) +
      (data.engine === "full" ? "（完整计算）" : "（增量）");
    var top = document.getElementById("top");
    top.textContent = "";
    data.top.forEach(function (t) {
      top.appendChild(el("li", {}, t.name + "  " + (t.cut ? "断路" : minutes(t.d_own)) + " / " +
                                    minutes(t.d_county)));
    });
    var edits = document.getElementById("edits");
    edits.textContent = "";
    data.edits.forEach(function (e) { edits.appendChild(el("li", {}, e)); });
    document.getElementById("btn-undo").disabled = !data.can_undo;
    document.getElementById("btn-redo").disabled = !data.can_redo;
    document.getElementById("season").value = data.season;
    restyle();
  }
  function post(path, body) { return run(api("POST", path, body === undefined ? {} : body)); }
  function send(edit) { return post("/api/edit", edit); }
  function run(promise) {
    S.busy = true;
    return promise.then(function (data) { show(data); msg("已更新（" + fmt(data.server_ms, 1) + " 毫秒）", true); })
      .catch(function (err) { msg("无法执行：" + err.message); if (S.last) { show(S.last); } })
      .then(function () { S.busy = false; });
  }
  function fetchYaml() {
    return api("GET", "/api/scenario.yaml" + (token ? "?token=" + encodeURIComponent(token) : ""));
  }
  function saveYaml() {
    S.busy = true;
    fetchYaml()
      .then(function (text) {
        S.lastYaml = text;
        remember("保存 " + new Date().toLocaleTimeString("zh-CN"), text);
        var a = el("a", { download: "scenario.yaml" });
        a.href = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
        document.body.appendChild(a); a.click(); a.remove();
        msg("已保存情景 YAML", true);
      })
      .catch(function (err) { msg("无法保存：" + err.message); })
      .then(function () { S.busy = false; });
  }

  function start() {
    buildPanel();
    S.map = L.map("map", { preferCanvas: true });
    S.map.on("click", onMapClick);
    S.busy = true;
    api("GET", "/api/region").then(function (region) {
      drawRegion(region);
      return api("POST", "/api/session", {});
    }).then(function (data) {
      S.session = data.session;
      show(data);
      S.ready = true;
    }).catch(function (err) { msg("无法载入：" + err.message); })
      .then(function () { S.busy = false; });
  }
  start();
})();
