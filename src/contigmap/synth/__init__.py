"""Synthetic regions: the 花垣县 demo region and large regions and areas for scale tests.

``make_scale_roads`` / ``make_scale_region`` (module :mod:`contigmap.synth.scale`) build
large road networks; ``make_scale_area`` (module :mod:`contigmap.synth.area`) a whole
contiguous area of county regions on one network; ``make_demo_region`` (module
:mod:`contigmap.synth.region`) builds the illustrative demo region from real outlines,
names and census figures plus seeded synthetic terrain, roads, households, hazards and
infrastructure;
``make_messy_region`` (module :mod:`contigmap.synth.messy`) a small region whose files
are as messy as county offices hand them over.
"""

from __future__ import annotations

from contigmap.synth.area import make_scale_area
from contigmap.synth.messy import make_messy_region
from contigmap.synth.region import make_demo_region
from contigmap.synth.scale import make_scale_region, make_scale_roads

__all__ = [
    "make_demo_region",
    "make_messy_region",
    "make_scale_area",
    "make_scale_region",
    "make_scale_roads",
]
