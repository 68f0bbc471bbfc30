(function(){
  $labels.forEach(function(a){
    L.marker([a[0], a[1]], {pane: 'cmLabels', interactive: false, keyboard: false,
      icon: L.divIcon({className: 'cm-label', html: a[2], iconSize: null})
    }).addTo($group);
  });
})();
