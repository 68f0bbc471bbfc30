"""The real parts of the demo region, read from the package data (``contigmap/data/huayuan``).

See ``PROVENANCE.md`` next to the files for where each one comes from and its licence.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely

from contigmap.raster import Raster

__all__ = [
    "COUNTY_CODE",
    "SHIBADONG_CODE",
    "RealParts",
    "display_village_name",
    "is_community",
    "load_real_parts",
]

COUNTY_CODE = "433124"
SHIBADONG_CODE = "433124110226"
"""十八洞村, 双龙镇 (formerly 排碧乡)."""
COUNTY_SEAT_TOWNSHIP = "433124109"
"""花垣镇 holds the county seat."""
COUNTY_SEAT_LONLAT = (109.482, 28.572)
"""Approximate location of the county town (花垣县城), WGS84."""
ELEVATION_RANGE_M = (227.0, 922.0)


@dataclass(frozen=True)
class RealParts:
    """The real inputs of the demo region.

    Attributes
    ----------
    outline
        The county polygon, WGS84.
    townships
        ``township_id`` (9 digits), ``name``; 12 rows, in code order.
    villages
        ``village_id`` (12 digits), ``name`` (display form, 十八洞村), ``official_name``,
        ``township_id``, ``community`` (bool); 228 rows, in code order.
    census
        ``pop``, ``urban_pop``, ``rural_pop``, ``households``.
    coarse_dem
        The 0.2° elevation trend around the county.
    """

    outline: shapely.Polygon
    townships: pd.DataFrame
    villages: pd.DataFrame
    census: dict[str, int]
    coarse_dem: Raster


def _data_dir() -> Path:
    return Path(str(resources.files("contigmap") / "data" / "huayuan"))


def display_village_name(official: str) -> str:
    """Return the short display name: ``十八洞村村民委员会`` → ``十八洞村``.

    ``龙潭社区居委会`` → ``龙潭社区``; names without a committee suffix are unchanged.
    """
    for suffix in ("村民委员会", "居民委员会", "居委会"):
        if official.endswith(suffix):
            return official[: -len(suffix)]
    return official


def is_community(code: str) -> bool:
    """Tell whether a 12-digit code is a community (社区): its village part is ``0xx``."""
    return len(code) == 12 and code[9] == "0"


def load_real_parts() -> RealParts:
    """Read the county outline, names and codes, census row and coarse DEM from package data."""
    folder = _data_dir()
    gdf = gpd.read_file(folder / "county_outline.geojson")
    geom = shapely.union_all(gdf.geometry.to_numpy())
    if isinstance(geom, shapely.MultiPolygon):
        geom = max(geom.geoms, key=lambda g: g.area)
    outline = shapely.Polygon(geom.exterior)  # drop slivers of holes, if any
    townships = pd.read_csv(folder / "townships.csv", dtype=str).rename(
        columns={"code": "township_id"}
    )
    villages = pd.read_csv(folder / "villages.csv", dtype=str).rename(
        columns={"code": "village_id", "name": "official_name", "township_code": "township_id"}
    )
    villages["name"] = villages["official_name"].map(display_village_name)
    villages["community"] = villages["village_id"].map(is_community)
    villages = villages.sort_values("village_id", ignore_index=True)
    townships = townships.sort_values("township_id", ignore_index=True)
    row = pd.read_csv(folder / "census2020.csv", dtype={"区划代码": str}).iloc[0]
    census = {
        "pop": int(row["人口数_合计"]),
        "urban_pop": int(row["城镇人口"]),
        "rural_pop": int(row["乡村人口"]),
        "households": int(row["家庭户数"]),
    }
    with rasterio.open(folder / "dem_coarse.tif") as src:
        arr = src.read(1).astype(np.float64)
        if src.nodata is not None:
            arr[arr == src.nodata] = np.nan
        coarse = Raster(arr, src.transform, src.crs, name="dem_coarse")
    return RealParts(outline, townships, villages, census, coarse)
