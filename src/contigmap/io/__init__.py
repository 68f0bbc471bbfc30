"""Where data enters and leaves: reading a region's layers, checking them, writing outputs.

=====================  ===============================================================
``region``             :func:`load_region_layers` → :class:`RegionData` (one working CRS)
``read``               :func:`read_layer`: one vector layer or table, as declared
``tables``/``vectors`` file formats: CSV/Excel (delimiter, encoding, types), vector files
``recode``             the manifest's ``sheets:``/``filter:``/``class:``/``columns:``/
                       ``values:``/``set:``/``id:`` applied to a frame
``rasters``            :func:`read_raster`
``checks``             the layer checks (columns, ids, geometry, values, extent)
``write``              :func:`atomic_path`, :func:`write_vector`, :func:`write_table`
``writers``            byte-identical, formula-safe CSV/XLSX and fixed GeoPackage dates
``outdir``             output folders: refused when unsafe, staged and swapped in whole
=====================  ===============================================================

The public names are re-exported here; modules inside :mod:`contigmap.io` import from
each other's modules, never from this package.
"""

from contigmap.io._common import RASTER_SUFFIXES, is_raster_path
from contigmap.io.rasters import read_raster
from contigmap.io.read import read_layer
from contigmap.io.region import LayerReport, RegionData, load_region_layers
from contigmap.io.write import atomic_path, write_table, write_vector

__all__ = [
    "RASTER_SUFFIXES",
    "LayerReport",
    "RegionData",
    "atomic_path",
    "is_raster_path",
    "load_region_layers",
    "read_layer",
    "read_raster",
    "write_table",
    "write_vector",
]
