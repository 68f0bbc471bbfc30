"""``contigmap plan`` as one library call: prepare the region, plan, write the folder.

:func:`run_plan` reuses the pipeline's stages (:func:`contigmap.pipeline.prepare`:
load → profile → network → indicators → priorities → relocation; nothing is copied),
then :func:`contigmap.plan.run.plan_from_state`, and writes every file into a staged
folder that replaces the output folder whole (:func:`contigmap.io.outdir.staged_dir`)
with a run manifest (:func:`contigmap.publish.finish_outputs`) recording the settings and
the solver's status, gap and time.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contigmap.errors import ConfigError
from contigmap.io.outdir import check_output_dir, region_inputs, staged_dir
from contigmap.network.speeds import Season
from contigmap.plan.config import default_plan_path, load_plan_config, split_plan_file
from contigmap.plan.outputs import write_plan_outputs
from contigmap.plan.run import PlanResult, plan_from_state
from contigmap.state import StageTimer

logger = logging.getLogger(__name__)

__all__ = ["PlanRun", "run_plan"]


@dataclass
class PlanRun:
    """What ``contigmap plan`` produced: the plan and the files (final paths, by key)."""

    result: PlanResult
    outputs: dict[str, Path] = field(default_factory=dict)


def _settings_file(sections: dict[str, Any], folder: Path) -> Path | None:
    """Write the ``--config`` file's run-settings sections as their own file (None: none)."""
    if not sections:
        return None
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump(sections, allow_unicode=True, sort_keys=True),
                    encoding="utf-8")
    return path


def _named_settings(params: dict[str, Any], settings: Path | None,
                    config: str | Path | None) -> dict[str, Any]:
    """Return the run settings for the manifest, naming the user's file, not its temp copy."""
    if settings is None or config is None:
        return params
    text = json.dumps(params, ensure_ascii=False).replace(
        json.dumps(str(settings))[1:-1], json.dumps(str(config))[1:-1])
    return dict(json.loads(text))


def run_plan(
    region_path: str | Path,
    out_dir: str | Path,
    *,
    config: str | Path | None = None,
    priority_config: str | Path | None = None,
    season: Season | None = None,
    timer: StageTimer | None = None,
    show_progress_bars: bool = False,
    force: bool = False,
) -> PlanRun:
    """Plan a region and write the plan folder (see the module).

    Parameters
    ----------
    region_path
        The region manifest.
    out_dir
        The output folder (replaced whole on success).
    config
        A YAML with a ``plan:`` section; ``network:``, ``priorities:`` and
        ``relocation:`` sections beside it go to the run's settings.
    priority_config
        A priorities file (criteria, weights, costs).
    season
        Road speeds of which season (the settings' when omitted).
    timer, show_progress_bars
        Progress display.
    force
        Replace a folder contigmap did not write.

    Returns
    -------
    PlanRun
        The plan and the written files.

    Raises
    ------
    ConfigError
        A bad ``plan:`` section (before any analysis).
    OutputDirError
        The output folder cannot or must not be written (before any analysis).
    """
    out = Path(out_dir)
    plan_cfg = load_plan_config(config)
    sections = split_plan_file(config)[1] if config is not None else {}
    side = [p for p in (config, priority_config) if p is not None]
    inputs = region_inputs(region_path)
    check_output_dir(out, inputs, side_inputs=side, force=force)
    timer = timer or StageTimer()
    with tempfile.TemporaryDirectory(prefix="contigmap-plan-") as tmp:
        from contigmap.pipeline import prepare

        settings = _settings_file(sections, Path(tmp))
        try:
            state = prepare(region_path, season=season, priority_config=priority_config,
                            config=settings, timer=timer, show_progress_bars=show_progress_bars)
        except ConfigError as err:  # name the user's file, not the temporary copy
            if settings is None or str(settings) not in str(err):
                raise
            text = str(err).replace(str(settings), str(config))
            text = text.replace("valid keys: network", "valid keys: plan, network")
            raise ConfigError(text) from err
    with timer.stage("plan"):
        result = plan_from_state(state, plan_cfg)
    logger.info("plan: %s solver, %s, %.1f s", result.solution.method, result.solution.status,
                result.solution.seconds)
    parameters: dict[str, Any] = {
        "region": state.data.config.name, "command": "plan",
        "plan_config": str(config) if config else f"packaged {default_plan_path().name}",
        "plan": plan_cfg.model_dump(mode="json"),
        # no wall time here: the manifest of a rerun must match (it is logged instead)
        "solver": {**result.solution.as_summary(), "time_limit_s": plan_cfg.time_limit_s},
        **_named_settings(state.settings.manifest_parameters(), settings, config),
    }
    from contigmap.publish import finish_outputs

    title = state.data.config.title or state.data.config.name
    with staged_dir(out, inputs=inputs, side_inputs=side, force=force) as stage:
        written = write_plan_outputs(result, stage, title=title, villages=state.villages,
                                     townships=state.data.boundaries.get("townships"),
                                     roads=state.data.roads, boundaries=state.data.boundaries,
                                     source_note=state.data.config.source_note or "",
                                     illustrative=state.data.config.illustrative)
        outputs = finish_outputs(stage, out, written, parameters=parameters,
                                 inputs=[Path(region_path), *state.data.input_paths,
                                         *map(Path, side)])
    return PlanRun(result=result, outputs=outputs)
