"""Reader's labels for variables, factor levels, terms, models and estimators.

Why one place: a table row, a figure axis and a legend must call ``ruling`` the same thing
("Ruling party"), and a reader should never see ``C(fh_status)[T.NF]`` or a model's file
name.  The labels live in one TOML file the user edits (shipped as
``models/labels.toml``, packaged as ``cpcstats/project/models/labels.toml``);
`Labels.term` composes the label of any patsy term from them, so an interaction needs no
label of its own: ``ruling:C(fh_status)[T.NF]`` is "Ruling party × Not Free".

The file has these sections, each a table of strings (unknown sections are errors)::

    raw_latex = false          # labels hold LaTeX: written into .tex unescaped
    [variables]                # panel column -> label ("Intercept" -> "Constant")
    [levels.fh_status]         # one table per factor: level -> label
    [models]                   # model name -> column title
    [families]                 # family -> estimator label ("negbin" -> "NB2")
    [fixed_effects]            # fixed effect -> row label (default: the variable's)

A name with no label falls back to a readable form of itself (underscores become spaces);
`Labels.raw` keeps every raw name, for a user who asks for them.  This module imports
nothing from ``reporting.tables`` (the tables import it).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cpcstats.errors import SpecError
from cpcstats.spec_registry import family_label
from cpcstats.tomlio import load_toml

__all__ = [
    "COUNT_PART_TITLE",
    "LABEL_SECTIONS",
    "PACKAGED_LABELS",
    "PART_TITLES",
    "Labels",
    "check_labels",
    "default_labels",
    "load_labels",
    "split_interaction",
    "split_part",
]

#: The labels file shipped with the package (a copy of the repository's models/labels.toml).
PACKAGED_LABELS = Path(__file__).resolve().parent.parent / "project" / "models" / "labels.toml"
#: The flat sections of a labels file (``levels`` is a table of such tables).
LABEL_SECTIONS = ("variables", "models", "families", "fixed_effects")
_TOP_KEYS = (*LABEL_SECTIONS, "levels", "raw_latex")

#: Model parts other than the count (mean) equation, by the prefix of their term names.
PART_TITLES: dict[str, str] = {
    "inflate": "Inflation (logit)",
    "zero": "Zero hurdle (logit)",
}
#: Title of the count-equation block, shown only when another part is present.
COUNT_PART_TITLE = "Count model"


def split_part(term: str) -> tuple[str, str]:
    """Split ``"inflate:x"`` into ``("inflate", "x")``; mean-equation terms get part ``""``.

    Only the prefixes in `PART_TITLES` count, so an interaction such as
    ``ruling:C(fh_status)[T.PF]`` is not mistaken for a model part.
    """
    head, sep, rest = term.partition(":")
    if sep and head in PART_TITLES:
        return head, rest
    return "", term


def split_interaction(text: str, sep: str = ":") -> list[str]:
    """Split on ``sep`` outside parentheses and brackets (patsy interaction syntax)."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(depth - 1, 0)
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


_CATEGORICAL = re.compile(r"^C\(\s*([^,()]+?)\s*(?:,.*)?\)\[(?:T\.)?(.*)\]$")
_PLAIN_LEVEL = re.compile(r"^([A-Za-z_][\w.]*)\[(?:T\.)?(.*)\]$")
_FUNCTION = re.compile(r"^(?:np\.|numpy\.)?(\w+)\((.*)\)$")
_NAME = re.compile(r"[A-Za-z_]\w*")
_SQUARE = re.compile(r"^\s*([A-Za-z_]\w*)\s*\*\*\s*2\s*$")
_FUNCTION_FORMS = {"log": "log({})", "log1p": "log(1 + {})", "sqrt": "√{}", "exp": "exp({})"}


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


def _readable(name: str) -> str:
    """The fallback label of an unlabelled name: ``bri_years_since`` -> ``Bri years since``."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else name


@dataclass(frozen=True)
class Labels:
    """Labels of variables, factor levels, models, estimators and fixed effects.

    Read from a file by `load_labels`; the packaged set is `default_labels`; a table
    overrides some with `merged`.  ``raw_latex``: the labels hold LaTeX, which the LaTeX
    renderer writes unescaped (and the other renderers show as written).  ``identity``
    (made by `raw`): every method returns the raw name.

    Examples
    --------
    >>> labels = Labels(variables={"ruling": "Ruling party"},
    ...                 levels={"fh_status": {"NF": "Not Free"}})
    >>> labels.term("ruling:C(fh_status)[T.NF]")
    'Ruling party × Not Free'
    >>> labels.term("inflate:np.log(ruling)")
    'log(Ruling party)'
    """

    variables: Mapping[str, str] = field(default_factory=dict)
    levels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    models: Mapping[str, str] = field(default_factory=dict)
    families: Mapping[str, str] = field(default_factory=dict)
    fixed_effects: Mapping[str, str] = field(default_factory=dict)
    raw_latex: bool = False
    identity: bool = False

    def __post_init__(self) -> None:
        for name in LABEL_SECTIONS:
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        levels = {str(k): _frozen(v) for k, v in self.levels.items()}
        object.__setattr__(self, "levels", _frozen(levels))

    def __hash__(self) -> int:
        return hash(repr(self))

    @classmethod
    def raw(cls) -> Labels:
        """Labels that keep every raw name (variables, terms, models, families)."""
        return cls(identity=True)

    def variable(self, name: str) -> str:
        """The label of a variable (or a readable form of its name)."""
        name = str(name)
        if self.identity:
            return name
        if name in self.variables:
            return self.variables[name]
        return "Constant" if name == "Intercept" else _readable(name)

    def relabel_text(self, text: str) -> str:
        """Free text (a note, a standard-error description) with the raw names of labelled
        variables replaced by their labels: ``"clustered by iso3"`` reads ``"clustered by
        country"``.

        Why only names that look like code (an underscore or a digit: ``iso3``,
        ``party_id``, ``bri_member``): plain words that are also variables (``year``,
        ``ruling``) read correctly as they are.  A one-word label starts lower case
        mid-sentence ("country"); longer labels keep their capitals, which may be a name
        ("Xi era", "BRI member").
        """
        if self.identity or not text:
            return text
        for name in sorted(self.variables, key=len, reverse=True):
            if not re.search(r"[_0-9]", name) or name not in text:
                continue
            label = self.variables[name]
            if " " not in label and label[1:].islower():
                label = label[:1].lower() + label[1:]
            text = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w])", label, text)
        return text

    def has_variable(self, name: str) -> bool:
        """Whether the variable has a label of its own (not the fallback)."""
        return str(name) in self.variables

    def level(self, variable: str, level: str) -> str:
        """The label of one level of a factor, e.g. ``("fh_status", "NF")`` -> "Not Free".

        An unlabelled level reads "<variable label>: <level>".
        """
        if self.identity:
            return f"{variable}[{level}]"
        found = self.levels.get(str(variable), {}).get(str(level))
        return found if found is not None else f"{self.variable(variable)}: {level}"

    def _factor(self, factor: str) -> str:
        factor = factor.strip()
        for pattern in (_CATEGORICAL, _PLAIN_LEVEL):
            match = pattern.match(factor)
            if match:
                return self.level(match.group(1).strip(), match.group(2))
        match = _FUNCTION.match(factor)
        if match:
            func, inner = match.group(1), match.group(2).strip()
            if func == "I":
                square = _SQUARE.match(inner)
                if square:
                    return f"{self.variable(square.group(1))}²"
                return _NAME.sub(lambda m: self._name_in_expression(m.group(0)), inner)
            shown = self.variable(inner) if _NAME.fullmatch(inner) else inner
            return _FUNCTION_FORMS.get(func, func + "({})").format(shown)
        if _NAME.fullmatch(factor):
            return self.variable(factor)
        return factor

    def _name_in_expression(self, name: str) -> str:
        return self.variables.get(name, name)

    def term(self, raw_term: str) -> str:
        """The label of a patsy term: factors composed with ``×``, the part prefix dropped.

        ``C(fh_status)[T.PF]`` -> the level's label; ``np.log(x)`` -> "log(<x>)";
        ``I(x ** 2)`` -> "<x>²"; anything else -> its variable label or the text itself.
        The part (``inflate:``, ``zero:``) is dropped: tables show it as a block title.
        """
        _, body = split_part(str(raw_term))
        if self.identity:
            return body
        return " × ".join(self._factor(f) for f in split_interaction(body))

    def model(self, name: str, default: str | None = None) -> str:
        """The title of a model: its label, else ``default``, else its name with spaces
        for underscores (a name a user gave in a notebook is kept as written)."""
        if self.identity:
            return str(name)
        found = self.models.get(str(name))
        if found is not None:
            return found
        return default if default is not None else str(name).replace("_", " ")

    def has_model(self, name: str) -> bool:
        """Whether the model has a label of its own."""
        return str(name) in self.models

    def family(self, family: str) -> str:
        """The estimator label of a family ("negbin" -> "NB2")."""
        if self.identity:
            return str(family)
        return self.families.get(str(family)) or family_label(str(family))

    def fixed_effect(self, name: str) -> str:
        """The row label of a fixed effect; ``iso3^year`` composes as "Country × Year"."""
        if self.identity:
            return str(name)
        parts = [p.strip() for p in re.split(r"[\^:]", str(name))]
        return " × ".join(self.fixed_effects.get(p) or self.variable(p) for p in parts)

    def merged(self, overrides: Mapping[str, Any], *, file: str | None = None) -> Labels:
        """These labels with ``overrides`` (same sections as the file) laid over them.

        Raises a SpecError for an unknown section or a label that is not a string.
        """
        data = check_labels(overrides, file=file)
        levels = {k: dict(v) for k, v in self.levels.items()}
        for variable, table in data.get("levels", {}).items():
            levels.setdefault(variable, {}).update(table)
        new = {s: {**getattr(self, s), **data.get(s, {})} for s in LABEL_SECTIONS}
        raw_latex = bool(data.get("raw_latex", self.raw_latex))
        return replace(self, **new, levels=levels, raw_latex=raw_latex, identity=False)


def _label_table(value: Any, key: str, *, file: str | None) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise SpecError(
            f'`{key}` of the labels must be a table of name = "label", not {type(value).__name__}',
            file=file,
            column=key,
            fix=f'write it as [{key}] with lines such as ruling = "Ruling party"',
        )
    out: dict[str, str] = {}
    for name, label in value.items():
        if not isinstance(label, str):
            raise SpecError(
                f"the label of `{name}` in [{key}] must be a string, not "
                f"{type(label).__name__} {label!r}"[:300],
                file=file,
                column=f"{key}.{name}",
                fix=f'write {name} = "..." (a label in quotes)',
            )
        out[str(name)] = label
    return out


def check_labels(data: Mapping[str, Any], *, file: str | None = None) -> dict[str, Any]:
    """Check a labels mapping (a parsed file or an override): its sections and types."""
    if not isinstance(data, Mapping):
        raise SpecError(
            f"labels must be a table of sections, not {type(data).__name__}",
            file=file,
            fix="use sections such as [variables] and [models]",
        )
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise SpecError(
            f"unknown section `{unknown[0]}` in the labels",
            file=file,
            column=unknown[0],
            fix=f"use only {', '.join(_TOP_KEYS)} (a variable's label goes under [variables])",
        )
    out: dict[str, Any] = {
        s: _label_table(data[s], s, file=file) for s in LABEL_SECTIONS if s in data
    }
    if "levels" in data:
        levels = data["levels"]
        if not isinstance(levels, Mapping):
            raise SpecError(
                "`levels` of the labels must hold one table per factor",
                file=file,
                column="levels",
                fix='write [levels.fh_status] with lines such as NF = "Not Free"',
            )
        out["levels"] = {
            str(v): _label_table(t, f"levels.{v}", file=file) for v, t in levels.items()
        }
    if "raw_latex" in data:
        if not isinstance(data["raw_latex"], bool):
            raise SpecError(
                f"`raw_latex` must be true or false, not {data['raw_latex']!r}"[:200],
                file=file,
                column="raw_latex",
                fix="write raw_latex = true (labels hold LaTeX) or raw_latex = false",
            )
        out["raw_latex"] = data["raw_latex"]
    return out


def load_labels(path: str | Path | None = None) -> Labels:
    """Read a labels file (None: the packaged one); a bad file is a SpecError naming it."""
    path = PACKAGED_LABELS if path is None else Path(path)
    if not path.is_file():
        raise SpecError(
            "the labels file does not exist",
            file=str(path),
            fix="pass the path of a labels TOML (e.g. models/labels.toml)",
        )
    data = check_labels(load_toml(path, "labels file"), file=str(path))
    return Labels(
        **{s: data.get(s, {}) for s in LABEL_SECTIONS},
        levels=data.get("levels", {}),
        raw_latex=bool(data.get("raw_latex", False)),
    )


@functools.lru_cache(maxsize=1)
def default_labels() -> Labels:
    """The packaged labels, read once."""
    return load_labels(None)
