(function(){
  var map = $map;
  var panes = [['cmImages', 300], ['cmAreas', 350], ['cmLines', 380], ['cmPoints', 420],
               ['cmLabels', 590]];
  panes.forEach(function(p){
    var pane = map.createPane(p[0]); pane.style.zIndex = p[1];
    if (p[0] === 'cmLabels') pane.style.pointerEvents = 'none';
  });
  // build a layer's features when it is first shown: hidden layers cost nothing at load
  window.cmPopup = {maxWidth: 380, maxHeight: 440, autoPanPaddingTopLeft: [10, 90]};
  map.on('popupclose', function(){
    L.DomUtil.removeClass(map.getContainer(), 'cm-popup-open'); });
  map.on('popupopen', function(e){  // a card fits the screen it opens on (phones)
    L.DomUtil.addClass(map.getContainer(), 'cm-popup-open');
    var o = e.popup.options, w = Math.min(380, window.innerWidth - 50),
        h = Math.min(440, window.innerHeight - 230);
    var top = window.innerWidth < 700 ? [10, 200] : [10, 90];  // phone: below the search
    if (o.maxWidth !== w || o.maxHeight !== h || o.autoPanPaddingTopLeft[1] !== top[1]) {
      o.maxWidth = w; o.maxHeight = h; o.minWidth = Math.min(o.minWidth || 50, w);
      o.autoPanPaddingTopLeft = top;
      e.popup.update(); e.popup._adjustPan && e.popup._adjustPan();
    }
  });
  // the layer control redraws its list on every change: let controls.js group it again
  var upd = L.Control.Layers.prototype._update;
  L.Control.Layers.prototype._update = function(){
    var r = upd.apply(this, arguments); window.cmLayerControl = this;
    if (window.cmDecorateLayers) window.cmDecorateLayers(this);
    return r;
  };
  window.cmWhenShown = function(group, build){
    if (map.hasLayer(group)) { build(); } else { group.once('add', build); }
  };
})();
