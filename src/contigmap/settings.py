"""The effective settings of a run: network, priorities and relocation, layered once.

Every command that analyses a region (``run``, ``demo``, ``priorities``, scenarios,
criticality, the optimiser) builds one :class:`RunSettings` and passes it to every
stage, so that a setting the user changed is the one every stage uses. Layers, later
ones winning:

``network``
    the defaults of :class:`~contigmap.network.speeds.NetworkParams` → the region
    manifest's ``network:`` section → the ``network:`` section of ``--config`` → a
    command's ``--season`` (→ a scenario's ``params:`` and ``season:``, applied by the
    scenario evaluation on top of these).
``priorities``
    the packaged ``priorities.yaml`` → a ``--priorities`` file (a whole priorities file,
    replacing the packaged one) → the ``priorities:`` section of ``--config``.
``relocation``
    the packaged ``relocation.yaml`` → the ``relocation:`` section of ``--config``.

Sections of ``--config`` may be partial: mappings are merged key by key into the layer
below (``relocation: {assignment: {time_limit_s: 20}}`` changes one value).

Example ``--config`` file::

    network:
      all_season_surfaces: [paved]
      speed_kmh: {village: {gravel: 15}}
      slope_penalty: false
    priorities:
      roads: {weights: {poor_pop: 0.4}}
    relocation:
      candidates: {hazard_raster_mean_min: 0.6}
      sites: {town_capacity_people: {township_seat: 3000}}
      assignment: {time_limit_s: 30}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from contigmap._strict import StrictModel
from contigmap.config import RegionConfig
from contigmap.errors import ConfigError
from contigmap.network.speeds import NetworkParams, Season, deep_merge
from contigmap.priority.config import PriorityConfig, default_priorities_path, load_priority_config
from contigmap.relocation.costs import (
    RelocationConfig,
    default_relocation_path,
    load_relocation_config,
)
from contigmap.yamlio import config_error, load_yaml, parse_model

__all__ = ["CONFIG_SECTIONS", "RunSettings", "is_run_config", "load_run_config",
           "run_settings"]

CONFIG_SECTIONS = ("network", "priorities", "relocation")
"""The sections a ``--config`` file may have."""


class _ConfigFile(StrictModel):
    network: dict[str, Any] | None = None
    priorities: dict[str, Any] | None = None
    relocation: dict[str, Any] | None = None


def _network_defaults() -> NetworkParams:
    return NetworkParams()


@dataclass(frozen=True)
class RunSettings:
    """The settings every stage of one run uses.

    Attributes
    ----------
    network
        Network engine settings, ``season`` included.
    priorities
        Criteria, weights and costs of the priority stage (its road costs also price
        scenarios and the optimiser's projects).
    relocation
        Thresholds, costs and solver limits of the relocation stage.
    sources
        Where each section came from, for the run manifest.
    """

    network: NetworkParams = field(default_factory=_network_defaults)
    priorities: PriorityConfig = field(default_factory=load_priority_config)
    relocation: RelocationConfig = field(default_factory=load_relocation_config)
    sources: dict[str, list[str]] = field(default_factory=dict)

    @property
    def season(self) -> Season:
        """The travel-time season."""
        return self.network.season

    def manifest_parameters(self) -> dict[str, Any]:
        """Return the effective settings as JSON-ready mappings (``run_manifest.json``)."""
        return {
            "season": self.season,
            "network": self.network.model_dump(mode="json"),
            "rai_definition": self.network.rai_definition(),
            "priorities": self.priorities.model_dump(mode="json"),
            "relocation": self.relocation.model_dump(mode="json"),
            "settings_sources": {k: list(v) for k, v in self.sources.items()},
        }


def is_run_config(data: dict[str, Any]) -> bool:
    """Whether a parsed YAML mapping is a ``--config`` file (only known sections)."""
    return bool(data) and set(data) <= set(CONFIG_SECTIONS)


def load_run_config(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a ``--config`` file: its sections as plain mappings (absent ones left out).

    Raises
    ------
    ConfigError
        A key other than ``network``, ``priorities`` and ``relocation`` (the closest is
        suggested), or a section that is not a mapping; bad values inside a section are
        reported when the section is applied (:func:`run_settings`).
    """
    data = load_yaml(path)
    parsed = parse_model(_ConfigFile, data, source=str(path))
    return {k: v for k, v in parsed.model_dump().items() if v is not None}


def layer_network(base: NetworkParams, override: dict[str, Any] | NetworkParams | None,
                  *, where: str) -> NetworkParams:
    """Apply one layer of network settings, turning problems into :class:`ConfigError`."""
    try:
        return base.layered(override)
    except PydanticValidationError as err:
        raise config_error(err, NetworkParams, source=where) from err


def run_settings(
    region: RegionConfig | None = None,
    *,
    config: str | Path | None = None,
    priority_config: str | Path | None = None,
    season: Season | None = None,
) -> RunSettings:
    """Build the effective settings of a run (layers in the module docstring).

    Parameters
    ----------
    region
        The region manifest (its ``network:`` section), if any.
    config
        A ``--config`` file with optional ``network:``, ``priorities:`` and
        ``relocation:`` sections.
    priority_config
        A whole priorities file (``--priorities``) replacing the packaged one.
    season
        ``--season``: overrides the settings' season when given.

    Returns
    -------
    RunSettings
        The validated settings.

    Raises
    ------
    ConfigError
        A bad key or value in any layer; the message names the file and the key.
    """
    sources: dict[str, list[str]] = {"network": ["defaults"],
                                     "priorities": ["packaged priorities.yaml"],
                                     "relocation": ["packaged relocation.yaml"]}
    network = NetworkParams()
    if region is not None and region.network is not None:
        network = layer_network(network, region.network, where="region.yaml: network")
        sources["network"].append("region.yaml network:")
    sections = load_run_config(config) if config is not None else {}
    if "network" in sections:
        network = layer_network(network, sections["network"], where=f"{config}: network")
        sources["network"].append(f"{config} network:")
    if season is not None:
        network = layer_network(network, {"season": season}, where="--season")
        sources["network"].append(f"--season {season}")

    base_prior = load_yaml(priority_config or default_priorities_path())
    if priority_config is not None:
        sources["priorities"] = [str(priority_config)]
    where = str(priority_config or "priorities")
    if "priorities" in sections:
        base_prior = deep_merge(base_prior, sections["priorities"])
        sources["priorities"].append(f"{config} priorities:")
        where = f"{config}: priorities"
    priorities = _load_priorities(base_prior, where)

    base_reloc = load_yaml(default_relocation_path())
    where = "relocation"
    if "relocation" in sections:
        base_reloc = deep_merge(base_reloc, sections["relocation"])
        sources["relocation"].append(f"{config} relocation:")
        where = f"{config}: relocation"
    relocation = _load_relocation(base_reloc, where)
    return RunSettings(network=network, priorities=priorities, relocation=relocation,
                       sources=sources)


def _load_priorities(data: dict[str, Any], where: str) -> PriorityConfig:
    try:
        return load_priority_config(data)
    except ConfigError as err:
        raise ConfigError(str(err).replace("priorities:", f"{where}:", 1)) from err


def _load_relocation(data: dict[str, Any], where: str) -> RelocationConfig:
    try:
        return load_relocation_config(data)
    except ConfigError as err:
        raise ConfigError(str(err).replace("relocation:", f"{where}:", 1)) from err
