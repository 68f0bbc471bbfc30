(function(){
  var map = $map;
  var panes = [['cmImages', 300], ['cmAreas', 350], ['cmLines', 380], ['cmPoints', 420],
               ['cmLabels', 590]];
  panes.forEach(function(p){
    var pane = map.createPane(p[0]); pane.style.zIndex = p[1];
    if (p[0] === 'cmLabels') pane.style.pointerEvents = 'none';
  });
  window.cmPopup = {maxWidth: 380, maxHeight: 440, autoPanPaddingTopLeft: [10, 90]};
  function fit(popup){  // a card fits the screen it is shown on (phones, resized windows)
    var o = popup.options, w = Math.min(380, window.innerWidth - 50),
        h = Math.min(440, window.innerHeight - 230);
    var top = window.innerWidth < 700 ? [10, 200] : [10, 130];  // below the title and search
    if (o.maxWidth !== w || o.maxHeight !== h || o.autoPanPaddingTopLeft[1] !== top[1]) {
      o.maxWidth = w; o.maxHeight = h; o.minWidth = Math.min(o.minWidth || 50, w);
      o.autoPanPaddingTopLeft = top;
      popup.update();
    }
    if (popup._adjustPan) popup._adjustPan();
  }
  map.on('popupclose', function(){
    L.DomUtil.removeClass(map.getContainer(), 'cm-popup-open'); });
  map.on('popupopen', function(e){
    L.DomUtil.addClass(map.getContainer(), 'cm-popup-open'); fit(e.popup); });
  map.on('resize', function(){ if (map._popup && map._popup.isOpen()) fit(map._popup); });
  // the layer control redraws its list on every change: let controls.js group it again
  var upd = L.Control.Layers.prototype._update;
  L.Control.Layers.prototype._update = function(){
    var r = upd.apply(this, arguments); window.cmLayerControl = this;
    if (window.cmDecorateLayers) window.cmDecorateLayers(this);
    return r;
  };
  // build a layer's features when it is first shown: hidden layers cost nothing at load
  window.cmWhenShown = function(group, build){
    if (map.hasLayer(group)) { build(); } else { group.once('add', build); }
  };
})();
