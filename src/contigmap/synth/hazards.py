"""Hazard and ecology layers: landslide susceptibility, flood zones, red line, reserve.

* Landslide susceptibility (0–1, on the analysis grid) is a logistic index of slope,
  a smooth "lithology" noise field (weak shale and weathered karst versus competent
  limestone) and closeness to streams (undercutting), in the spirit of heuristic
  susceptibility indices (e.g. Reichenbach et al. 2018, *Earth-Science Reviews* 180).
* Flood zones: valley-floor cells near rivers of ≥ 30 km² upstream area and no more
  than a few metres above the nearest river cell (a height-above-nearest-drainage rule;
  Rennó et al. 2008, *Remote Sensing of Environment* 112), polygonised.
* Geohazard points (地质灾害隐患点): cells drawn with probability proportional to the
  cube of the susceptibility, so that mapped hazard sites cluster on steep, weak,
  undercut ground; each gets a type, a risk class from its susceptibility and a number
  of threatened people.
* Ecological protection red line: the top ~20% of the county by an index of slope,
  elevation and noise (steep, high ground), as whole patches; the nature reserve is
  the largest red-line patch grown a little.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from rasterio import features
from scipy import ndimage

from contigmap.synth.terrain import Terrain, fractal_surface

__all__ = [
    "ecology_polygons",
    "flood_polygons",
    "hazard_points",
    "landslide_susceptibility",
    "polygonize",
]


def polygonize(
    mask: NDArray[np.bool_], terrain: Terrain, *, min_cells: int = 4
) -> list[shapely.Polygon]:
    """Polygons of the ``True`` patches of a grid mask with at least ``min_cells`` cells."""
    lab, n = ndimage.label(mask)
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    keep = (lab > 0) & (sizes[lab] >= min_cells)
    out = []
    for geom, _ in features.shapes(
        keep.astype(np.uint8), mask=keep, transform=terrain.grid.transform, connectivity=4
    ):
        out.append(shapely.geometry.shape(geom))
    return out


def landslide_susceptibility(terrain: Terrain, rng: np.random.Generator) -> NDArray[np.float64]:
    """Landslide susceptibility 0–1 on the analysis grid (``nan`` outside the county buffer)."""
    slope = terrain.slope_deg
    litho = ndimage.gaussian_filter(fractal_surface(slope.shape, rng, beta=3.0), 2.0)
    litho = (litho - litho.mean()) / (litho.std() + 1e-12)
    stream = terrain.hydro.area_km2 >= 2.0
    near = ndimage.distance_transform_edt(~stream, sampling=(terrain.cell_dy_m, terrain.cell_dx_m))
    z = -4.2 + 0.16 * slope + 0.8 * litho + 0.8 * np.exp(-near / 300.0)
    out = 1.0 / (1.0 + np.exp(-z))
    return np.where(np.isnan(terrain.grid.array), np.nan, np.round(out, 3))


def flood_polygons(
    terrain: Terrain, *, min_area_km2: float = 30.0, height_m: float = 6.0
) -> list[shapely.Polygon]:
    """Flood zones along larger rivers: low cells within ~400 m of them (HAND-like rule)."""
    river = (terrain.hydro.area_km2 >= min_area_km2) & terrain.mask
    dist, (ir, ic) = ndimage.distance_transform_edt(
        ~river, sampling=(terrain.cell_dy_m, terrain.cell_dx_m), return_indices=True
    )
    elev = np.nan_to_num(terrain.grid.array, nan=1e4)
    hand = elev - elev[ir, ic]
    zone = (dist <= 400.0) & (hand <= height_m) & terrain.mask
    zone = ndimage.binary_closing(zone, iterations=1) & terrain.mask
    return polygonize(zone, terrain, min_cells=6)


def ecology_polygons(
    terrain: Terrain, rng: np.random.Generator, *, share: float = 0.20
) -> tuple[list[shapely.Polygon], shapely.Polygon]:
    """Red-line polygons over about ``share`` of the county, and one nature reserve polygon."""
    m = terrain.mask
    elev = np.nan_to_num(terrain.grid.array, nan=0.0)
    noise = ndimage.gaussian_filter(fractal_surface(m.shape, rng, beta=3.2), 3.0)
    idx = (
        ndimage.gaussian_filter(terrain.slope_deg, 2.0) / 10.0
        + (elev - elev[m].mean()) / (elev[m].std() + 1e-9)
        + 0.8 * noise / (noise.std() + 1e-12)
    )
    thresh = np.quantile(idx[m], 1.0 - share * 1.45)  # opening and small patches lose ~30%
    red = ndimage.binary_opening((idx >= thresh) & m, iterations=1)
    polys = polygonize(red, terrain, min_cells=40)
    biggest = max(polys, key=lambda p: p.area)
    reserve = shapely.Polygon(biggest.buffer(0.004).buffer(-0.002).exterior)
    return polys, reserve


def hazard_points(
    terrain: Terrain, susceptibility: NDArray[np.float64], rng: np.random.Generator, *, n: int = 60
) -> pd.DataFrame:
    """Return geohazard points (隐患点): ``hazard_type, risk_class, threatened_people, x, y``.

    Cells inside the county are drawn without replacement with probability ∝
    susceptibility³; points sit at a random place in their cell (``x, y`` in the grid's
    CRS). Risk class: 高 from susceptibility 0.6, 中 from 0.3, else 低.
    """
    s = np.nan_to_num(susceptibility.ravel(), nan=0.0) * terrain.mask.ravel()
    cand = np.flatnonzero(s > 0)
    n = min(n, cand.size)
    p = s[cand] ** 3
    cells = np.sort(rng.choice(cand, size=n, replace=False, p=p / p.sum()))
    r, c = np.divmod(cells, terrain.grid.shape[1])
    tf = terrain.grid.transform
    x = tf.c + (c + rng.random(n)) * tf.a
    y = tf.f + (r + rng.random(n)) * tf.e
    sv = s[cells]
    return pd.DataFrame(
        {
            "hazard_type": rng.choice(["滑坡", "崩塌", "泥石流"], size=n, p=[0.7, 0.2, 0.1]),
            "risk_class": np.where(sv >= 0.6, "高", np.where(sv >= 0.3, "中", "低")),
            "threatened_people": rng.poisson(12.0, n) + 1,
            "x": x,
            "y": y,
        }
    )
