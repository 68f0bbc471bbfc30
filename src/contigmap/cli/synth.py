"""``contigmap synth``: generate the demo, a scale area, a messy or a handover region."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from contigmap.cli.errors import fail_cleanly
from contigmap.cli.options import force_option, out_option


@click.command(
    epilog="""\b
Examples:
  contigmap synth demo -o layers/huayuan
  contigmap synth scale -o /tmp/big --road-edges 1000000          # ~70 counties
  contigmap synth scale -o /tmp/small --road-edges 30000 --counties 3 --seed 1
  contigmap synth messy -o layers/messy
  contigmap synth messy -o /tmp/unseen --seed 7 --variant unseen
  contigmap synth handover -o /tmp/handover   # then: contigmap init /tmp/handover
"""
)
@click.argument("kind", type=click.Choice(["demo", "scale", "messy", "handover"]))
@out_option("Folder to write the region into.")
@click.option("--seed", type=int, default=None, help="Random seed (default: the generator's).")
@click.option("--road-edges", type=int, default=1_000_000, show_default=True,
              help="Road lines of the whole area (scale only).")
@click.option("--counties", type=click.IntRange(min=1), default=None,
              help="Scale only: counties in the area (default: one per 14,000 road lines).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Scale only: processes writing counties at once (same files for any number).")
@click.option("--variant", type=click.Choice(["fixture", "unseen"]), default="fixture",
              show_default=True,
              help="Messy regions only: 'unseen' uses another zone and other headers and "
                   "writes no region.yaml (try `contigmap init` on it).")
@force_option
@click.pass_context
@fail_cleanly
def synth(ctx: click.Context, kind: str, out_dir: Path, seed: int | None, road_edges: int,
          counties: int | None, workers: int, variant: str, force: bool) -> None:
    """Generate synthetic data: the 花垣县 demo, a scale area, or a messy region.

    ``scale`` writes a whole contiguous area: ``area.yaml``, area layers (prefecture
    cities, roads crossing county borders) and one full region per county under
    ``counties/<code>/``, each with its own region.yaml. ``messy`` is a small region with
    files as county offices hand them over; ``handover`` one in the shapes of issue #19
    (File Geodatabase, report sheet, OSM extract, DEM tiles, BD-09, KMZ), without a
    region.yaml (draft it with ``contigmap init``).
    """
    from contigmap import synth as synth_mod
    from contigmap.io.outdir import check_output_dir

    check_output_dir(out_dir, force=force)
    kwargs: dict[str, Any] = {"force": force} if seed is None else {"seed": seed, "force": force}
    if kind == "demo":
        path = synth_mod.make_demo_region(out_dir, progress=not ctx.obj["quiet"], **kwargs)
    elif kind == "handover":
        from contigmap.synth.handover import make_handover_region

        path = make_handover_region(out_dir, **kwargs)
    elif kind == "messy":
        path = synth_mod.make_messy_region(
            out_dir, variant="unseen" if variant == "unseen" else "fixture", **kwargs)
    else:
        path = synth_mod.make_scale_area(out_dir, n_edges=road_edges, n_counties=counties,
                                         workers=workers, progress=not ctx.obj["quiet"],
                                         **kwargs)
    click.echo(f"contigmap synth: wrote {path}")
