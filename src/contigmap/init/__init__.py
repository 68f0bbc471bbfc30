"""``contigmap init``: look at a folder of files as handed over and draft its ``region.yaml``.

Steps: :mod:`~contigmap.init.scan` (read the files), :mod:`~contigmap.init.match`
(roles, CRS, columns), :mod:`~contigmap.init.draft` (the commented manifest).

For every file (every layer of a GeoPackage, every sheet of a workbook) :func:`init_region`
reads the headers and a sample of rows and guesses:

* its **role** (villages, roads, dem, hazards, services, households, boundaries, ...),
  from its headers (the one table of :mod:`contigmap.inputs`), its geometry and words
  in its file, layer or sheet name;
* its **column mapping** onto contigmap's canonical columns;
* its **CRS**: the file's own, else (tables and files without ``.prj``) from the value
  ranges: longitude/latitude degrees, or Gauss–Krüger metres with the zone number
  prefixed to the easting (``37 xxx xxx`` → CGCS2000 3-degree zone 37, EPSG:4525) or
  without it (``5xx xxx``; the zone then comes from the other layers' position);
* the **text encoding** of shapefiles without ``.cpg`` (GBK is common) and of CSV files;
* likely **GCJ-02** coordinates (a file, sheet or column name mentioning 高德, 腾讯,
  AMap or GCJ) → ``datum: gcj02``; likely **BD-09** (百度, baidu, bd09, bd-09 in a file,
  sheet or column name, on degrees) → ``datum: bd09``. Coordinate headers are also
  recognised with such a word (``百度经度``, ``bd09_lng``), and degrees-minutes-seconds
  text (``113°12′34.5″E``) counts as degrees;
* the forms of issue #19 (:mod:`~contigmap.init.forms`): File Geodatabases (``.gdb``),
  KML/KMZ (folders stacked, ``folder`` → ``hazard_type`` when named as hazards), OSM
  extracts and further road files (``roads: [...]``, the OSM extract first, the county
  file ``priority: 1``), sibling DEM tiles (``dem: {paths: [...]}``), report-style sheets
  (``header_row:`` found below title rows, two rows when merged), a statistics table
  joined onto the villages by code (``join:``), and a registry of poor and edge
  households only (``coverage: poor_only``: it lists 边缘户, or at least 85% of 20 or
  more listed households are poor).

It writes the guesses into a commented manifest (comments in Chinese and English);
every line the user must check carries ``# 请确认 confirm:``. The library only builds
the text; :meth:`InitResult.write` refuses to overwrite an existing ``region.yaml``
unless told to.
"""

from __future__ import annotations

from contigmap.init.draft import InitResult, init_region
from contigmap.init.scan import CONFIRM, Candidate, Guess, guess_crs_from_xy

__all__ = ["CONFIRM", "Candidate", "Guess", "InitResult", "guess_crs_from_xy", "init_region"]
