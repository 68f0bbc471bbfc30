"""The one base of contigmap's configuration models.

Every model read from a user's file (region manifest, settings, priorities, relocation,
scenarios, network and cost-path parameters) derives from :class:`StrictModel`: an
unknown key is an error (so a misspelt key is never silently ignored) and a parsed
model is frozen. Problems are turned into one-line messages by
:func:`contigmap.yamlio.parse_model`.

Lowest in the import graph (it imports only pydantic), so that every module holding a
model can use it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StrictModel"]


class StrictModel(BaseModel):
    """Base for configuration models: unknown keys are errors, instances are frozen.

    A subclass may add settings (``model_config = ConfigDict(populate_by_name=True)``);
    pydantic merges them with these.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
