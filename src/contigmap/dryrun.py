"""The ``contigmap validate`` report: a full dry run of a region, writing nothing.

It loads every layer collecting problems instead of stopping at the first
(:func:`contigmap.io.region.load_region_layers` with ``collect_errors``), runs the overlay
and network stages as ``run`` does, catches every
:class:`~contigmap.errors.DataQualityWarning`, and lists each problem as one line under
its layer or stage, ending with the count of errors (``run`` would stop) and warnings
(``run`` would go on, with what consequence).
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import pandas as pd

from contigmap.errors import DataQualityWarning
from contigmap.facts import region_facts

if TYPE_CHECKING:
    from contigmap.io.region import LayerReport, RegionData

__all__ = ["Finding", "ValidationReport", "validation_report"]

logger = logging.getLogger(__name__)


_SOURCE = re.compile(r"^layers\.([\w.\-]+) \(([^)]*)\): ")


@dataclass(frozen=True)
class Finding:
    """One problem found by the dry run.

    Attributes
    ----------
    severity
        ``error`` (``run`` would stop) or ``warning`` (``run`` would go on).
    where
        The layer and file (``layers.roads (roads.gpkg)``) or the stage
        (``network stage``) it belongs to.
    text
        The message, without the ``where`` prefix.
    """

    severity: Literal["error", "warning"]
    where: str
    text: str

    def line(self) -> str:
        """One line: severity, where, message."""
        label = "ERROR  " if self.severity == "error" else "warning"
        return f"{label} {self.where}: {self.text}"


# what run does instead, for the warnings' summary (first match wins)
_CONSEQUENCES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("cannot reach",), "villages kept without travel times"),
    (("left out", "dropped", "skipped", "keeps none"), "rows left out"),
    (("counted as 'other'",), "causes counted as other"),
    (("sample", "estimate"), "figures estimated"),
    (("repaired",), "geometries repaired"),
    (("outside the dem", "region_typical", "nodata"), "terrain from typical values or "
                                                       "cells as nodata"),
    (("left empty", "no township seat", "are nan"), "measures left empty"),
    (("voronoi", "discs"), "village areas approximated"),
    (("swapped", "outside"), "features outside the region"),
    (("duplicate", "multi-part"), "duplicates or multi-part lines used as they are"),
    (("gb18030", "encoding"), "encoding guessed"),
)


def _consequence(text: str) -> str:
    low = text.lower()
    for words, what in _CONSEQUENCES:
        if any(w in low for w in words):
            return what
    return "other (see the line)"


@dataclass
class ValidationReport:
    """What ``contigmap validate`` prints: a dry run of everything ``run`` checks.

    Attributes
    ----------
    region_path
        The manifest checked.
    working_crs
        The working CRS, as text.
    layers
        One :class:`contigmap.io.region.LayerReport` per declared layer.
    facts
        :func:`region_facts` of the layers that loaded.
    findings
        Every error and warning, layer by layer, then stage by stage.
    sources
        Where households and poor people will come from
        (:func:`contigmap.poverty.poverty_source_lines`).
    notes
        What was not checked, and why.
    """

    region_path: Path
    working_crs: str
    layers: list[LayerReport] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """Problems on which ``run`` would stop."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """Problems ``run`` would warn about and go on."""
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    @property
    def n_problems(self) -> int:
        """Number of problems (errors and warnings)."""
        return len(self.findings)

    def summary(self) -> str:
        """Count the errors (run would stop) and warnings (run would go on, doing what)."""
        n_err, warns = len(self.errors), self.warnings
        errors = (f"{n_err} error{'s' if n_err != 1 else ''} "
                  f"({'run would stop at the first' if n_err else 'run would not stop'})")
        counts = pd.Series([_consequence(w.text) for w in warns], dtype=object).value_counts()
        what = "; ".join(f"{k} ({v})" for k, v in counts.items())
        warned = (f"{len(warns)} warning{'s' if len(warns) != 1 else ''}"
                  + (f" (run would go on: {what})" if warns else ""))
        return f"{errors}, {warned}"

    def to_text(self) -> str:
        """Render an aligned plain-text report (Chinese text aligned by display width)."""
        lines = [f"region: {self.region_path}", f"working CRS: {self.working_crs}", ""]
        header = ("layer", "file", "features", "CRS in", "bounds (working CRS, m)")
        rows = [header]
        for r in self.layers:
            bounds = "" if r.bounds is None else ", ".join(f"{v:.0f}" for v in r.bounds)
            features = "FAILED" if r.failed and not r.features else str(r.features)
            rows.append((r.name, r.path.name, features, r.crs_in or "-", bounds))
        widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
        for i, row in enumerate(rows):
            cells = [_pad(cell, widths[j], right=(j == 2 and i > 0)) for j, cell in enumerate(row)]
            lines.append("  ".join(cells).rstrip())
        lines.append("")
        if self.findings:
            lines.append(f"problems ({len(self.errors)} errors, {len(self.warnings)} warnings):")
            lines.extend(f"  {f.line()}" for f in self.findings)
        else:
            lines.append("problems: none")
        if self.notes:
            lines.append("")
            lines.append("not checked:")
            lines.extend(f"  {note}" for note in self.notes)
        if self.sources:
            lines.append("")
            lines.append("households and poor people (as run would take them):")
            lines.extend(f"  {line}" for line in self.sources)
        if self.facts:
            lines.append("")
            lines.append("region facts:")
            lines.extend(f"  {line}" for line in _facts_lines(self.facts))
        lines.append("")
        lines.append(f"result: {'OK' if self.ok else 'FAILED'}: {self.summary()}")
        return "\n".join(lines)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def _facts_lines(facts: dict[str, Any]) -> list[str]:
    def num(value: Any, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    out = [
        f"area: {num(facts.get('area_km2'), ',.1f')} km²",
        f"townships: {num(facts.get('townships'), 'd')}",
        f"villages: {num(facts.get('villages'), ',d')}",
        f"hamlets: {num(facts.get('hamlets'), ',d')}",
        f"people: {num(facts.get('pop'), ',d')}",
        f"roads: {num(facts.get('road_km'), ',.1f')} km, density "
        f"{num(facts.get('road_density_km_per_km2'), '.2f')} km/km²",
    ]
    for key, label in (("road_km_by_class", "by class"), ("road_km_by_surface", "by surface")):
        parts = facts.get(key) or {}
        if parts:
            out.append(f"  {label}: " + ", ".join(f"{k} {v:,.1f}" for k, v in parts.items()))
    if facts.get("households") is not None:
        out.append(f"households: {facts['households']:,d}")
    if facts.get("registry_households") is not None:
        out.append(f"households in the registry: {facts['registry_households']:,d}")
    if facts.get("poverty_incidence") is not None:
        source = facts.get("poor_pop_source") or ""
        note = ", estimated from a registry sample" if "sample" in source else ""
        out.append(
            f"poverty incidence: {facts['poverty_incidence']:.1%} "
            f"({facts['poor_pop']:,d} poor people{note}; source {source})"
        )
    return out


def _split(message: str, reports: dict[str, LayerReport]) -> tuple[str | None, str]:
    """Find the layer a message names (``layers.<key> (file): ...``, ``<key>: ...``)."""
    match = _SOURCE.match(message)
    if match and match.group(1) in reports:
        return match.group(1), message[match.end():]
    for key in sorted(reports, key=len, reverse=True):
        if message.startswith(f"{key}: "):
            return key, message[len(key) + 2:]
        if message.startswith(f"{key} "):
            return key, message
    return None, message


def _where(key: str | None, reports: dict[str, LayerReport], stage: str | None = None) -> str:
    layer = None if key is None else f"layers.{key} ({reports[key].path.name})"
    if stage is None:
        return layer or "region"
    return f"{stage} stage" + (f", {layer}" if layer else "")


def _layer_findings(reports: dict[str, LayerReport]) -> list[Finding]:
    out = []
    for key, report in reports.items():
        for problem in report.problems:
            error = problem.startswith("ERROR: ")
            text = problem.removeprefix("ERROR: ")
            match = _SOURCE.match(text)
            if match and match.group(1) == key:
                text = text[match.end():]
            out.append(Finding("error" if error else "warning", _where(key, reports), text))
    return out


def _caught_findings(
    caught: list[warnings.WarningMessage],
    reports: dict[str, LayerReport],
    stage: str | None,
    *,
    skip: tuple[str, ...] = (),
) -> list[Finding]:
    """DataQualityWarnings caught in a phase, one finding each (those already listed skipped)."""
    known = [p for r in reports.values() for p in r.problems]
    out: list[Finding] = []
    seen: set[str] = set()
    for w in caught:
        if not issubclass(w.category, DataQualityWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            continue
        message = str(w.message)
        if message in seen or message.startswith(skip):
            continue
        seen.add(message)
        if any(message.endswith(f": {p}") or message == p for p in known):
            continue  # the layer's report has it
        key, text = _split(message, reports)
        out.append(Finding("warning", _where(key, reports, stage), text))
    return out


def _names(table: pd.DataFrame | None, ids: list[str]) -> dict[str, str]:
    if table is None or "township_id" not in table or "name" not in table:
        return {}
    names = dict(zip(table["township_id"].astype(str), table["name"].astype(str), strict=False))
    return {i: names[i] for i in ids if i in names}


def _seat_findings(data: RegionData, villages: pd.DataFrame) -> list[Finding]:
    """Townships (of the villages) without a township seat among the services."""
    reports = data.reports
    if data.services is None:
        text = ("no services layer is declared: travel times to services, RAI and access to "
                "township seats are not computed and the priorities cannot run; declare "
                "services: in region.yaml")
        return [Finding("warning", "region", text)]
    if "township_id" not in villages.columns:
        return []
    services = data.services
    seats = services[services["kind"].astype(str) == "township_seat"]
    have = (set(seats["township_id"].dropna().astype(str))
            if "township_id" in seats.columns else set())
    towns = sorted(set(villages["township_id"].dropna().astype(str)))
    lacking = [t for t in towns if t not in have]
    if not lacking:
        return []
    names = _names(data.boundaries.get("townships"), lacking) or _names(
        data.township_table, lacking)
    if not names and "township_name" in villages.columns:
        names = _names(villages.rename(columns={"township_name": "name"}), lacking)
    listed = ", ".join(f"{names[t]} ({t})" if t in names else t for t in lacking[:10])
    more = f" and {len(lacking) - 10} more" if len(lacking) > 10 else ""
    n_vil = int(villages["township_id"].astype(str).isin(lacking).sum())
    text = (f"{len(lacking)} of {len(towns)} townships have no township seat (kind "
            f"township_seat with their township_id) among the services: {listed}{more}; "
            f"their {n_vil} villages get no travel time to their own seat (own-seat measures "
            "left empty); add the seats or a kind column that marks them")
    where = f"layers.services ({reports['services'].path.name})" if "services" in reports else (
        "region")
    return [Finding("warning", where, text)]


def validation_report(
    region_path: str | Path,
    *,
    progress: bool = False,
    strict: bool = False,
    quick: bool = False,
) -> ValidationReport:
    """Dry-run a region: every problem ``run`` would stop or warn on, all at once.

    Length: its docstring is half of it; the body is one phase after another (load,
    overlay, network), each catching its warnings the same way.

    The layers are loaded collecting every error (:func:`contigmap.io.region.load_region_layers`
    with ``collect_errors=True``: a layer that fails is reported and skipped, row-level
    errors are all listed and the rest of the layer kept), then the overlay stage
    (terrain, hazards, households and poor people) and the network stage (travel
    times, villages that cannot reach their township seat) run as ``run`` would run
    them, writing nothing. Every :class:`~contigmap.errors.DataQualityWarning` they
    issue is caught and listed under its layer or stage (not re-issued). Only when
    the villages or roads cannot be read at all does the dry run stop early.

    Parameters
    ----------
    region_path
        Path of ``region.yaml``.
    progress
        Show a progress bar over layers.
    strict
        Rows that would be left out with a warning (missing coordinates) are errors.
    quick
        Skip the network stage (the slowest part of the dry run).

    Returns
    -------
    ValidationReport
        Per-layer reports, every finding, the household and poverty sources and the
        region facts; ``ok`` is False when ``run`` would stop.

    Raises
    ------
    ConfigError
        The manifest itself cannot be read.
    """
    from contigmap.config import load_region
    from contigmap.errors import ContigmapError
    from contigmap.io.region import load_region_layers
    from contigmap.poverty import poverty_source_lines, poverty_sources
    from contigmap.settings import run_settings
    from contigmap.stages import (
        indicator_stage,
        network_stage,
        profile_stage,
        services_with_townships,
    )

    region_path = Path(region_path)
    region = load_region(region_path)
    report = ValidationReport(region_path=region_path, working_crs="-")
    settings = None
    try:
        settings = run_settings(region)
    except ContigmapError as err:
        report.findings.append(Finding("error", "region.yaml settings", str(err)))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        try:
            data = load_region_layers(region, progress=progress, strict=strict,
                                      collect_errors=True)
        except ContigmapError as err:
            match = _SOURCE.match(str(err))
            where = match.group(0)[:-2] if match else "region"
            text = str(err)[match.end():] if match else str(err)
            report.findings.append(Finding("error", where, text))
            report.findings.extend(_caught_findings(caught, {}, None))
            report.notes.append("nothing else is checked until the villages and roads can "
                                "be read")
            return report
    reports = data.reports
    report.working_crs = f"{data.working_crs.name} ({data.working_crs.to_string()})"
    report.layers = list(reports.values())
    report.findings.extend(_layer_findings(reports))
    report.findings.extend(_caught_findings(caught, reports, None))

    data = services_with_townships(data)
    villages: gpd.GeoDataFrame | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        try:
            villages, hamlets = profile_stage(data)
        except ContigmapError as err:
            report.findings.append(Finding("error", "overlay stage", str(err)))
    report.findings.extend(_caught_findings(caught, reports, "overlay"))
    if villages is None:
        report.notes.append("the network stage: the overlay stage failed")
        report.facts = region_facts(data)
        return report
    report.findings.extend(_seat_findings(data, villages))

    indicators = None
    if quick:
        report.notes.append("the network stage (--quick): villages that cannot reach their "
                            "township seat are not looked for")
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataQualityWarning)
            try:
                villages, hamlets, net = network_stage(
                    data, villages, hamlets,
                    params=settings.network if settings is not None else None)
                indicators = indicator_stage(data, villages, net)
            except ContigmapError as err:
                report.findings.append(Finding("error", "network stage", str(err)))
        report.findings.extend(_caught_findings(
            caught, reports, "network", skip=("services: no township_seat for township",)))
    if indicators is None:
        indicators = indicator_stage(data, villages)
    report.sources = poverty_source_lines(poverty_sources(villages, region))
    report.facts = region_facts(data, indicators=indicators)
    return report
