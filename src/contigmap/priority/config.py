"""The priority stage's configuration (``priorities.yaml``): shared keys, one section each.

The packaged ``contigmap/data/priorities.yaml`` documents every default and its source;
a region can pass its own file with the same structure. Everything is validated with
pydantic (``extra="forbid"``): weights must be non-negative, name a known criterion
(the closest name is suggested) and not all be zero; every cost parameter must be
given and positive. Problems become one-line :class:`~contigmap.errors.ConfigError`
messages naming the file and the key.

The sections are not written out here: each intervention brings its own model
(:attr:`~contigmap.priority.intervention.Intervention.config_model`, e.g.
:class:`~contigmap.priority.water.WaterConfig`) and :func:`priority_config_model` makes
the whole file's model from :data:`~contigmap.priority.registry.REGISTRY`, so adding an
intervention does not edit this module. Money is in CNY (2020 prices, indicative);
annualised costs use :func:`contigmap.finance.crf`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, PositiveFloat, PositiveInt, create_model, model_validator

from contigmap._strict import StrictModel
from contigmap.priority import registry
from contigmap.priority.intervention import InterventionConfig
from contigmap.yamlio import load_yaml, parse_model

__all__ = [
    "PriorityConfig",
    "default_priorities_path",
    "load_priority_config",
    "priority_config_model",
]


class PriorityConfig(StrictModel):
    """The whole ``priorities.yaml``: the shared keys, then one section per intervention.

    This class holds the shared keys; the model that validates a file
    (:func:`priority_config_model`) derives from it and adds a required field per
    registered intervention, typed by the intervention's ``config_model``
    (``config.water.costs.pipe_cny_per_km``). :meth:`intervention` returns a section by
    name.
    """

    discount_rate: float = Field(gt=0, lt=1)
    top_n: PositiveInt = 20
    sensitivity_step: float = Field(0.2, gt=0, lt=1)
    sensitivity_draws: int = Field(200, ge=0)
    sensitivity_concentration: PositiveFloat = 50.0
    seed: int = 20141
    budget_cny: PositiveFloat | None = None

    if TYPE_CHECKING:  # the sections are fields of the subclass made from the registry
        def __getattr__(self, name: str) -> Any: ...

    @model_validator(mode="after")
    def _weights(self) -> PriorityConfig:
        for name, iv in registry.REGISTRY.items():
            if name in type(self).model_fields:
                self.intervention(name).check_weights(name, iv.criteria_names)
        return self

    def intervention(self, name: str) -> InterventionConfig:
        """Return the section of intervention ``name``."""
        out: InterventionConfig = getattr(self, name)
        return out


_MODELS: dict[tuple[tuple[str, type[InterventionConfig]], ...], type[PriorityConfig]] = {}


def priority_config_model() -> type[PriorityConfig]:
    """Return the model of a whole ``priorities.yaml`` for the interventions registered now.

    :class:`PriorityConfig` with one required field per intervention of
    :data:`~contigmap.priority.registry.REGISTRY`, in its order, typed by its
    ``config_model``. Made once per set of interventions.
    """
    key = tuple((iv.name, iv.config_model) for iv in registry.REGISTRY.values())
    model = _MODELS.get(key)
    if model is None:
        fields: dict[str, Any] = {name: (cfg, ...) for name, cfg in key}
        model = create_model("PriorityConfig", __base__=PriorityConfig,
                             __module__=__name__, **fields)
        _MODELS[key] = model
    return model


def default_priorities_path() -> Path:
    """Return the path of the packaged ``priorities.yaml``."""
    return Path(str(resources.files("contigmap") / "data" / "priorities.yaml"))


def load_priority_config(
    source: str | Path | dict[str, Any] | None = None,
) -> PriorityConfig:
    """Read and validate priority weights and cost parameters.

    Parameters
    ----------
    source
        A YAML file, an already-parsed mapping, or ``None`` for the packaged defaults.

    Returns
    -------
    PriorityConfig
        The validated configuration (an instance of :func:`priority_config_model`).

    Raises
    ------
    ConfigError
        Unknown, negative or all-zero weights; missing or non-positive cost parameters;
        unknown keys. The message names the file and the key.
    """
    if source is None:
        source = default_priorities_path()
    if isinstance(source, dict):
        data, where = source, "priorities"
    else:
        data, where = load_yaml(source), str(source)
    return parse_model(priority_config_model(), data, source=where,
                       missing_hint="; give a positive number (the packaged priorities.yaml "
                                    "has defaults)")
