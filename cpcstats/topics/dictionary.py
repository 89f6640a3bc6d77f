"""Topic dictionaries: data files users edit, checked and compiled once.

Why data, not code: which words count as a reference to "Taiwan" or "the Belt and Road" is
a substantive coding decision that a replicator must be able to read, dispute and change
without touching Python.  A dictionary is a TOML file with ``language`` and one
``[[topic]]`` table per topic (``name``, ``label``, ``terms``, ``regex``,
``exclude_terms``, ``exclude_regex``); see ``dictionaries/study_topics.toml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from cpcstats import saferegex
from cpcstats.errors import SpecError
from cpcstats.tomlio import load_toml

DEFAULT_DICTIONARY = (
    Path(str(resources.files("cpcstats.topics"))) / "dictionaries" / "study_topics.toml"
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYS = {"name", "label", "terms", "regex", "exclude_terms", "exclude_regex"}


def term_pattern(term: str) -> str:
    """A literal word or phrase as a whole-word regular expression (``\\b`` at both ends, so
    "Taiwan" also counts in "Taiwan-based" and "Taiwan Affairs Office" but not in
    "Taiwanese"); spaces and hyphens inside it match any run of spaces or hyphens ("one
    China" also finds "one-China")."""
    words = [re.escape(w) for w in re.split(r"[\s\-]+", term.strip()) if w]
    body = r"[\s\-]+".join(words)
    return rf"\b{body}\b"


@dataclass(frozen=True)
class Topic:
    """One topic: its name (a column suffix), label and compiled patterns."""

    name: str
    label: str
    pattern: str  # one regular expression: any term or regex of the topic
    exclude: str | None  # spans removed before matching, or None

    @property
    def column(self) -> str:
        return f"topic_{self.name}"


@dataclass(frozen=True)
class TopicDictionary:
    """The topics of one dictionary file, in file order."""

    topics: tuple[Topic, ...]
    language: str
    source: str

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.topics]


def _compile(terms: list[str], regex: list[str], *, file: str, topic: str, key: str) -> str | None:
    """One pattern matching any of the ``terms`` (literal words, already as whole-word
    patterns) or ``regex`` entries, each checked to run in RE2 in bounded time.

    Each entry is checked on its own so that an error names the entry the user wrote; the
    joined pattern is checked too (RE2 bounds a pattern's compiled size).  Terms are
    literals, so only their length is bounded, not their size once expanded.
    """
    parts = [*terms, *regex]
    if not parts:
        return None
    where = f"topic {topic!r}: {key} entry"
    for part in terms:
        saferegex.check_pattern(part, file=file, where=where, column=key, max_atoms=None)
    for part in regex:
        saferegex.check_pattern(part, file=file, where=where, column=key)
    joined = "|".join(f"(?:{p})" for p in parts)
    saferegex.check_pattern(
        joined,
        file=file,
        where=f"topic {topic!r}: the {key} entries together",
        column=key,
        max_chars=len(joined),  # each entry is bounded; RE2 bounds the whole
        max_atoms=None,
    )
    return joined


def _strings(entry: dict[str, Any], key: str, *, file: str, topic: str) -> list[str]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SpecError(
            f"topic {topic!r}: `{key}` must be a list of non-empty strings",
            file=file,
            column=key,
            fix=f'{key} = ["...", "..."]',
        )
    return list(value)


def load_dictionary(path: str | Path | None = None) -> TopicDictionary:
    """Read and check a topic dictionary (default: the study's topics shipped with cpcstats)."""
    path = Path(path) if path is not None else DEFAULT_DICTIONARY
    file = str(path)
    data = load_toml(path, "topic dictionary")
    entries = data.get("topic")
    if not isinstance(entries, list) or not entries:
        raise SpecError(
            "the dictionary has no [[topic]] entries",
            file=file,
            fix='add [[topic]] tables with name = "..." and terms = [...]',
        )
    topics: list[Topic] = []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise SpecError(
                f"topic {i} is {entry!r}, not a table",
                file=file,
                column="topic",
                fix='write each topic as a [[topic]] table with name = "..." and terms = [...]',
            )
        name = str(entry.get("name", ""))
        if not _NAME.match(name):
            raise SpecError(
                f"topic {i}: name {name!r} must be lower case letters, digits and _ "
                "(it becomes a column name)",
                file=file,
                column="name",
                fix='e.g. name = "belt_and_road"',
            )
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise SpecError(
                f"topic {name!r}: unknown key(s) {', '.join(unknown)}",
                file=file,
                column=unknown[0],
                fix=f"allowed keys: {', '.join(sorted(_KEYS))}",
            )
        if name in {t.name for t in topics}:
            raise SpecError(
                f"topic {name!r} is defined twice",
                file=file,
                column="name",
                fix="give each topic its own name",
            )
        terms = [term_pattern(t) for t in _strings(entry, "terms", file=file, topic=name)]
        regex = _strings(entry, "regex", file=file, topic=name)
        pattern = _compile(terms, regex, file=file, topic=name, key="terms/regex")
        if pattern is None:
            raise SpecError(
                f"topic {name!r} has no `terms` or `regex`",
                file=file,
                column="terms",
                fix='add terms = ["..."]',
            )
        ex_terms = [
            term_pattern(t) for t in _strings(entry, "exclude_terms", file=file, topic=name)
        ]
        ex_regex = _strings(entry, "exclude_regex", file=file, topic=name)
        exclude = _compile(ex_terms, ex_regex, file=file, topic=name, key="exclude")
        topics.append(Topic(name, str(entry.get("label", name)), pattern, exclude))
    return TopicDictionary(tuple(topics), str(data.get("language", "en")), file)


def study_dictionary(study: Any) -> TopicDictionary:
    """The study's topic dictionary: ``[topics] dictionary = FILE`` (relative to the study
    file) or the shipped study topics."""
    config = study.config.get("topics", {}) if isinstance(study.config, dict) else {}
    path = config.get("dictionary")
    if path and study.config_path:
        path = Path(study.config_path).parent / str(path)
    return load_dictionary(path)
