"""What the matcher did with each input: `PartyMatch` and `PartyMatchReport`.

The vocabulary of outcomes (``HOW_*``) and the thresholds live here because
the report states them (``summary`` prints the threshold, ``accepted`` reads
the outcome) as much as the rules apply them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

FUZZY_THRESHOLD = 0.92
"""Lowest fuzzy score taken.  Measured on the hand-labelled fixture (tests/fixtures/party_names),
with rapidfuzz's ``fuzz.ratio`` as with difflib's ratio before it (the same scores there): the
right parties reached only by the fuzzy rule score 0.93-0.95; with each true party removed from
the register, the best wrong fuzzy candidate scores up to 0.919 (Indian National Congress ->
Nationalist Congress Party) -- below this threshold.  (The one wrong match of that stress test,
Communist Party of Belarus -> Party of Communists of Belarus, comes from the plural rule, not
the fuzzy one: a genuinely confusable pair.)"""
FUZZY_MARGIN = 0.05
"""The best fuzzy candidate must beat the runner-up by this much, else the input is ambiguous."""
CANDIDATES_LISTED = 3
FUZZY_FLOOR = 0.5
"""Fuzzy scores below this are dropped inside rapidfuzz (``score_cutoff``): such a party is
neither taken nor listed as a candidate (a name sharing less than half its letters is no help
to the user settling an unmatched name)."""

HOW_OVERRIDE = "override"
HOW_EXACT = "exact"
HOW_NORMALISED = "normalised"
HOW_FUZZY = "fuzzy"
HOW_AMBIGUOUS = "ambiguous"
HOW_UNMATCHED = "unmatched"
ACCEPTED = frozenset({HOW_OVERRIDE, HOW_EXACT, HOW_NORMALISED, HOW_FUZZY})


@dataclass(frozen=True)
class PartyMatch:
    """What the matcher did with one input: the id taken (or none), how, and the candidates."""

    name: str
    iso3: str
    partyfacts_id: int | None
    how: str
    score: float | None = None
    candidates: tuple[tuple[int, str, float], ...] = ()
    """(partyfacts_id, label, score) of the parties considered, best first."""
    rule: str = ""
    """Which form matched, e.g. "name_english", "core form", "initials of (CPV)"."""

    @property
    def accepted(self) -> bool:
        return self.how in ACCEPTED


@dataclass
class PartyMatchReport:
    """One `PartyMatch` per input, in input order, plus counts and a text summary."""

    matches: list[PartyMatch] = field(default_factory=list)
    threshold: float = FUZZY_THRESHOLD

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for m in self.matches:
            out[m.how] = out.get(m.how, 0) + 1
        return out

    def ids(self) -> list[int | None]:
        return [m.partyfacts_id for m in self.matches]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "name": [m.name for m in self.matches],
                "iso3": [m.iso3 for m in self.matches],
                "partyfacts_id": pd.array([m.partyfacts_id for m in self.matches], "Int64"),
                "how": [m.how for m in self.matches],
                "score": [m.score for m in self.matches],
                "rule": [m.rule for m in self.matches],
                "candidates": [
                    "; ".join(f"{pid} {label} ({score:.2f})" for pid, label, score in m.candidates)
                    for m in self.matches
                ],
            }
        )

    def summary(self) -> str:
        """Per-input lines for the check report: what matched, how, and what to do if nothing."""
        c = self.counts()
        lines = [
            f"Party-name matching: {len(self.matches)} name(s); "
            + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
            + f" (fuzzy threshold {self.threshold:.2f})."
        ]
        for m in self.matches:
            what = f"-> {m.partyfacts_id}" if m.partyfacts_id is not None else "-> (none)"
            score = f" score {m.score:.2f}" if m.score is not None else ""
            cand = ""
            if not m.accepted and m.candidates:
                cand = "; candidates: " + ", ".join(
                    f"{pid} {label} ({s:.2f})" for pid, label, s in m.candidates
                )
            rule = f": {m.rule}" if m.rule and m.how != HOW_OVERRIDE else ""
            lines.append(f"  {m.iso3} '{m.name}' {what} [{m.how}{score}{rule}]{cand}")
        if any(not m.accepted for m in self.matches):
            lines.append(
                "  fix: settle the ambiguous and unmatched names in [parties.overrides], e.g. "
                "'VNM:Vietnamese Communist Party' = 4898 (a Party Facts id)"
            )
        return "\n".join(lines)
