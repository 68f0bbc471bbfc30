"""contigmap: planning for China's contiguous destitute areas.

Overlay poverty, ecology and hazard layers, run network analysis on village roads,
and rank villages for roads, water, power, broadband and relocation.
"""

from __future__ import annotations

import logging

from contigmap.errors import ContigmapError

__version__ = "0.1.0"
__all__ = ["ContigmapError", "__version__"]

logging.getLogger("contigmap").addHandler(logging.NullHandler())
