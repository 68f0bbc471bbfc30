"""YAML files of contigmap (manifests, scenarios, configurations): safe reading, clear errors.

:func:`load_yaml` reads a file with PyYAML's safe loader, refusing repeated keys, files
over :data:`MAX_YAML_BYTES` and alias bombs (over :data:`MAX_YAML_VALUES` values);
:func:`parse_model` validates the data against a pydantic model and turns the first
problem into a one-line :class:`~contigmap.errors.ConfigError` naming the key, the file
and, for an unknown key, the closest valid one (:func:`config_error`).
"""

from __future__ import annotations

import difflib
import stat
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from contigmap.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_VALUES",
    "config_error",
    "load_yaml",
    "parse_model",
    "parse_yaml_text",
]


MAX_YAML_BYTES = 1_000_000
"""Largest region manifest, scenario or configuration file read (bytes): such files
list layers and parameters, never data, and PyYAML needs ~40x a file's size in memory."""

MAX_YAML_VALUES = 200_000
"""Most values a YAML file may expand to through ``&anchors`` and ``*aliases``."""


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping repeats a key."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing mappings that repeat a key (at any depth).

    PyYAML keeps the last value of a repeated key silently; a manifest with two
    ``roads:`` entries would use one and drop the other. Keys brought in by a ``<<``
    merge may be overridden, as YAML allows.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # unhashable key: the base class reports it
            if first is not None:
                raise _DuplicateKeyError(
                    None, None,
                    f"duplicate key '{key}' (first at line {first.start_mark.line + 1}); "
                    "keep one of them",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: yaml.Node, source: Path) -> None:
    """Refuse a document whose aliases expand it past :data:`MAX_YAML_VALUES` (a YAML bomb)."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    aliased = False
    while stack:
        node, done = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            children: list[yaml.Node] = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        if not done:
            if id(node) in sizes:
                aliased = True
                continue
            if id(node) in visiting:
                line = node.start_mark.line + 1
                msg = f"{source}: line {line}: an alias refers to itself; remove it"
                raise ConfigError(msg)
            visiting.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children)
            continue
        visiting.discard(id(node))
        total = 1 + sum(sizes[id(child)] for child in children)
        if aliased and total > MAX_YAML_VALUES:
            msg = (f"{source}: line {node.start_mark.line + 1}: &anchors and *aliases expand this "
                   f"file to more than {MAX_YAML_VALUES:,} values; write the values out instead")
            raise ConfigError(msg)
        sizes[id(node)] = total


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping: the one reader of every manifest, scenario and config file.

    Refuses, with one :class:`ConfigError` line naming the file (and line): a missing or
    unreadable file, one larger than :data:`MAX_YAML_BYTES` (checked before reading),
    YAML syntax errors, a key repeated in one mapping (both line numbers), aliases that
    expand past :data:`MAX_YAML_VALUES`, and a top level that is not a mapping.
    """
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            msg = f"{path}: is not a file (a folder or device?); give the path of a YAML file"
            raise ConfigError(msg)
        if info.st_size > MAX_YAML_BYTES:
            msg = (f"{path}: is {info.st_size / 1e6:.1f} MB, larger than the "
                   f"{MAX_YAML_BYTES / 1e6:g} MB contigmap reads for a YAML file; it should only "
                   "list layers and parameters: put data in layer files")
            raise ConfigError(msg)
        with path.open("rb") as handle:
            raw = handle.read(MAX_YAML_BYTES + 1)
        if len(raw) > MAX_YAML_BYTES:  # grew since stat
            msg = f"{path}: larger than {MAX_YAML_BYTES / 1e6:g} MB; it should only list layers"
            raise ConfigError(msg)
        text = raw.decode("utf-8")
    except FileNotFoundError as err:
        msg = f"{path}: file not found; check the path (relative paths start at the current folder)"
        raise ConfigError(msg) from err
    except (OSError, UnicodeDecodeError) as err:
        msg = f"{path}: cannot read the file ({err}); save it as UTF-8 text"
        raise ConfigError(msg) from err
    return parse_yaml_text(text, path)


def parse_yaml_text(text: str, path: str | Path) -> dict[str, Any]:
    """Parse YAML text as :func:`load_yaml` does (duplicate keys, alias limits, a mapping).

    Parameters
    ----------
    text
        The YAML document.
    path
        The file it came from (or will go to), named in error messages.

    Returns
    -------
    dict
        The top-level mapping.
    """
    path = Path(path)
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _expanded_size(node, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        msg = f"{path}:{where}: YAML syntax error: {problem}"
        if isinstance(err, _DuplicateKeyError):
            msg = f"{path}:{where}: {problem}"
        raise ConfigError(msg) from err
    except RecursionError as err:
        msg = f"{path}: nested too deeply to read; a manifest needs a few levels at most"
        raise ConfigError(msg) from err
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        msg = f"{path}: expected a YAML mapping (key: value lines) at the top level"
        raise ConfigError(msg)
    return data


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """Follow ``loc`` through nested model fields; return the model that owns the last key."""
    current: Any = model
    for part in loc[:-1]:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            # dict key: step into the dict's value type
            continue
        current = _inner_model(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _inner_model(annotation: Any) -> Any:
    """Return the BaseModel inside ``X | None`` or ``dict[K, X]``, else the annotation."""
    args = getattr(annotation, "__args__", ())
    for arg in reversed(args):
        found = _inner_model(arg)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return annotation


def _explain(err: dict[str, Any], model: type[BaseModel], *, missing_hint: str = "") -> str:
    loc = tuple(err.get("loc", ()))
    where = ".".join(str(p) for p in loc) or "(top level)"
    if err.get("type") == "extra_forbidden" and loc:
        key = str(loc[-1])
        owner = _model_at(model, loc)
        valid = sorted(f.alias or n for n, f in owner.model_fields.items()) if owner else []
        valid = [v for v in valid if v != "base_dir"]
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(valid)}"
        return f"unknown key '{where}': {hint}"
    if err.get("type") == "literal_error" and loc:
        value = str(err.get("input"))
        if str(loc[-1]) == "[key]":
            where = ".".join(str(p) for p in (*loc[:-2], value))
            what = "unknown name"
        else:
            what = "unknown value"
        expected = str(err.get("ctx", {}).get("expected", ""))
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",")]
        options = [o for o in options if o]
        close = difflib.get_close_matches(value, options, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(options)}"
        return f"{what} '{value}' at '{where}': {hint}"
    if err.get("type") == "missing":
        return f"missing required key '{where}'{missing_hint}"
    text = str(err.get("msg")).removeprefix("Value error, ")
    if err.get("type") == "value_error":
        # a validator's own message, which often names what it checked
        return text if not loc or text.startswith(where) else f"'{where}': {text}"
    given = err.get("input")
    if isinstance(given, str | int | float | bool) or given is None:
        text = f"{text} (got {given!r})"
    return f"'{where}': {text}"


def config_error(
    err: PydanticValidationError, model: type[BaseModel], *, source: str, missing_hint: str = ""
) -> ConfigError:
    """Turn a pydantic error into one :class:`ConfigError` line naming ``source`` and the key.

    The one translation of configuration errors: an unknown key names the closest valid
    key (or lists them), an unknown value the closest allowed one, a bad value the key and
    the value given; further problems are counted.

    Parameters
    ----------
    err
        The error raised while validating ``model``.
    model
        The model validated (to list the valid keys at the error's location).
    source
        Where the data came from (a file name, ``"<file>: <section>"``).
    missing_hint
        Appended to the message of a missing required key (where its default lives).

    Returns
    -------
    ConfigError
        ``"<source>: <first problem>"``, with ``" (and n more problem(s))"``.
    """
    # An unknown key usually explains a "missing" one (``pth:`` for ``path:``): say it first.
    errors = sorted(err.errors(), key=lambda e: e.get("type") != "extra_forbidden")
    first = _explain(dict(errors[0]), model, missing_hint=missing_hint)
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return ConfigError(f"{source}: {first}{more}")


def parse_model(
    model: type[M], data: dict[str, Any], *, source: str, missing_hint: str = ""
) -> M:
    """Validate ``data`` against ``model``; raise one-line :class:`ConfigError` on failure.

    The message is made by :func:`config_error` (``missing_hint`` is passed on).
    """
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        raise config_error(err, model, source=source, missing_hint=missing_hint) from err
