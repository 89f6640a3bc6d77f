r"""Publication tables for one or more fitted count models (modelsummary-like).

The layout is built once as data (:class:`Cell`, :class:`Row`, :class:`Block`,
:class:`Note`) and then handed to three small renderers (LaTeX, Markdown,
HTML).  Keeping numbers semantic until the last step is what lets every format
show the same figures with its own typography (``$-$0.123`` in LaTeX, ``-0.123``
elsewhere) and keeps the output byte-identical for identical input.

Every string reaches a renderer through one cleaning step (:func:`clean_text`):
control and format characters are removed and line breaks become spaces, so a
caption, note, label or cell cannot end a paragraph inside ``\caption`` or break
a Markdown row.  Each renderer then escapes: LaTeX specials (``\ { } $ % & # _ ^ ~
[ ]``) become text commands so ``\input{...}`` in a party name is printed, not run;
labels are reduced to ``[A-Za-z0-9:._-]``; Markdown gets backslash escapes for
emphasis, pipes and raw HTML (``<``, ``>``, ``&``) and link brackets; HTML is
entity-escaped.

Engines: tables whose text is Latin (ASCII, accented Latin letters, the symbols in
``_LATEX_CHARS``) compile with pdflatex and ``\usepackage{booktabs}``.  Tables with
other scripts (Cyrillic or CJK party names, for example) carry a comment at the top
of the ``.tex`` file and compile with **lualatex** and :data:`UNICODE_PREAMBLE`
(``fontspec`` with DejaVu Serif and a CJK fallback font; any installed CJK font
may replace WenQuanYi Micro Hei, see :func:`unicode_preamble`).
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.estimation.results import FitResult
from cpcstats.estimation.vcov import variance_for_result
from cpcstats.io import write_atomic
from cpcstats.reporting.format import MISSING, format_number, minus_sign, star_legend, star_string

__all__ = [
    "PART_TITLES",
    "SIMULATED_NOTE",
    "UNICODE_PREAMBLE",
    "Block",
    "Cell",
    "Note",
    "RegressionTable",
    "Row",
    "SimpleTable",
    "clean_text",
    "format_number",
    "latex_escape",
    "needs_unicode_engine",
    "pretty_term",
    "split_part",
    "stats_table",
    "table",
    "unicode_preamble",
    "write_atomic",
]

#: Model parts other than the count (mean) equation, by the prefix of their term names.
PART_TITLES: dict[str, str] = {
    "inflate": "Inflation (logit)",
    "zero": "Zero hurdle (logit)",
}
#: Title of the count-equation block, shown only when another part is present.
COUNT_PART_TITLE = "Count model"
SIMULATED_NOTE = (
    "SIMULATED DATA: estimates from the embedded demo study, not from the real ID-CPC data."
)
FLAG = "†"


# --------------------------------------------------------------------------- atomic writes


def split_part(term: str) -> tuple[str, str]:
    """Split ``"inflate:x"`` into ``("inflate", "x")``; mean-equation terms get part ``""``.

    Only the prefixes in :data:`PART_TITLES` count, so an interaction such as
    ``ruling:C(fh_status)[T.PF]`` is not mistaken for a model part.
    """
    head, sep, rest = term.partition(":")
    if sep and head in PART_TITLES:
        return head, rest
    return "", term


def _split_top_level(text: str, sep: str = ":") -> list[str]:
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
_FUNCTION = re.compile(r"^(?:np|numpy)\.(\w+)\((.*)\)$")
_IDENTITY = re.compile(r"^I\((.*)\)$")


def _pretty_factor(factor: str) -> str:
    factor = factor.strip()
    if factor == "Intercept":
        return "Constant"
    for pattern in (_CATEGORICAL, _PLAIN_LEVEL):
        match = pattern.match(factor)
        if match:
            return f"{match.group(1)} = {match.group(2)}"
    match = _FUNCTION.match(factor)
    if match:
        return f"{match.group(1)}({match.group(2)})"
    match = _IDENTITY.match(factor)
    if match:
        return match.group(1)
    return factor


def pretty_term(term: str) -> str:
    """Readable label for a patsy term name.

    ``C(fh_status)[T.NF]`` becomes ``fh_status = NF``, interactions are joined
    with ``×`` and ``Intercept`` becomes ``Constant``.  A part prefix
    (``inflate:``) is dropped because the table shows the part as a block header.
    """
    _, body = split_part(term)
    return " × ".join(_pretty_factor(f) for f in _split_top_level(body))


# --------------------------------------------------------------------------- formatting

_LATEX_CHARS: dict[str, str] = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "[": r"{[}",  # after \\ or \midrule a '[' would be read as an optional argument
    "]": r"{]}",
    "<": r"$<$",
    ">": r"$>$",
    "|": r"$|$",
    "×": r"$\times$",
    "α": r"$\alpha$",
    "β": r"$\beta$",
    "γ": r"$\gamma$",
    "δ": r"$\delta$",
    "θ": r"$\theta$",
    "λ": r"$\lambda$",
    "μ": r"$\mu$",
    "σ": r"$\sigma$",
    "ε": r"$\varepsilon$",
    "κ": r"$\kappa$",
    "π": r"$\pi$",
    "ρ": r"$\rho$",
    "τ": r"$\tau$",
    "φ": r"$\phi$",
    "χ": r"$\chi$",
    "ψ": r"$\psi$",
    "ω": r"$\omega$",
    "Δ": r"$\Delta$",
    "Σ": r"$\Sigma$",
    "Ω": r"$\Omega$",
    "√": r"$\surd$",
    "²": r"$^2$",
    "³": r"$^3$",
    "→": r"$\rightarrow$",
    "≈": r"$\approx$",
    "≠": r"$\neq$",
    "∞": r"$\infty$",
    "·": r"$\cdot$",
    "±": r"$\pm$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "−": r"$-$",
    "—": "---",
    "–": "--",
    "…": r"\ldots{}",
    "†": r"\dag{}",
}


def se_label(model: FitResult) -> str:
    """A short label of a model's standard errors for the statistics block."""
    spec = getattr(model, "spec", None)
    clusters = list(spec.cluster) if spec is not None and spec.cluster else []
    kind = model.se_type
    estimator = variance_for_result(kind)  # the label comes from the variance object
    return kind if estimator is None else estimator.table_label(kind, clusters, model.family)


_BREAKS = frozenset("\n\r\t\v\f\x85\u2028\u2029")


def clean_text(text: object) -> str:
    """The string without control/format characters; line breaks and tabs become spaces.

    Why: a C0/C1 control character makes pdflatex stop ("invalid character"), a blank
    line inside ``\\caption{...}`` ends the paragraph and the compile, a newline ends a
    Markdown table row, and bidirectional overrides (format characters) can make a
    label read differently from what it is.  Applied to every string every renderer
    writes.
    """
    text = str(text)
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in _BREAKS:
            out.append(" ")
        elif unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(ch)
    return "".join(out)


def latex_escape(text: str) -> str:
    """Escape LaTeX specials and map the few Unicode symbols tables use to core LaTeX.

    Every character that LaTeX could read as markup (``\\ { } $ % & # _ ^ ~ [ ]``) is
    written as a text command, so no user string can open a group, a command or a
    ``^^`` character code; control characters are removed first (:func:`clean_text`).
    """
    return "".join(_LATEX_CHARS.get(ch, ch) for ch in clean_text(text))


# Code points pdflatex typesets with the default (OT1) encoding and utf8 input, measured
# by compiling each of U+00A0..U+024F alone; everything else above ASCII that
# ``_LATEX_CHARS`` does not map needs lualatex (see UNICODE_PREAMBLE).
_PDFLATEX_RANGES = (
    (0x20, 0x7E), (0xA0, 0xAA), (0xAC, 0xBA), (0xBC, 0xCF), (0xD1, 0xDD), (0xDF, 0xEF),
    (0xF1, 0xFD), (0xFF, 0x103), (0x106, 0x10F), (0x112, 0x117), (0x11A, 0x125),
    (0x128, 0x12D), (0x130, 0x137), (0x139, 0x13E), (0x141, 0x148), (0x14C, 0x165),
    (0x168, 0x171), (0x174, 0x17E), (0x192, 0x192), (0x1C4, 0x1D4), (0x1E2, 0x1E3),
    (0x1E6, 0x1E9), (0x1F0, 0x1F0), (0x1F4, 0x1F5), (0x218, 0x21B), (0x232, 0x233),
    (0x237, 0x237),
)  # fmt: skip


def _pdflatex_safe(ch: str) -> bool:
    code = ord(ch)
    return ch == "\n" or any(lo <= code <= hi for lo, hi in _PDFLATEX_RANGES)


def needs_unicode_engine(text: str) -> bool:
    """True when pdflatex cannot typeset ``text`` (Cyrillic, CJK, Arabic, ... letters)."""
    return not all(_pdflatex_safe(ch) for ch in text)


def unicode_preamble(cjk_font: str = "WenQuanYi Micro Hei", main_font: str = "DejaVu Serif") -> str:
    """The lualatex preamble lines for tables with non-Latin text.

    ``main_font`` must cover Latin, Greek and Cyrillic (DejaVu Serif does);
    ``cjk_font`` is a fallback used for characters the main font lacks (CJK).  Both
    must be installed (``fc-list :lang=zh`` lists CJK fonts; luaotfload stops with an
    error for a fallback font that is not installed).  On Debian/Ubuntu:
    ``apt-get install fonts-dejavu-core fonts-wqy-microhei``; ``fonts-noto-cjk`` with
    ``cjk_font="Noto Serif CJK SC"`` looks more like a book face.
    """
    return (
        "\\usepackage{booktabs}\n"
        "\\usepackage{fontspec}\n"
        f'\\directlua{{luaotfload.add_fallback("cpcstats", {{"{cjk_font}:mode=harf;"}})}}\n'
        f"\\setmainfont{{{main_font}}}[RawFeature={{fallback=cpcstats}}]\n"
    )


#: The default lualatex preamble (see :func:`unicode_preamble`).
UNICODE_PREAMBLE = unicode_preamble()


def _unicode_header(text: str) -> str:
    """Comment lines for the top of a ``.tex`` file that pdflatex cannot compile."""
    first = next(ch for ch in text if not _pdflatex_safe(ch))
    lines = [
        f"% This table contains characters pdflatex cannot typeset (first: U+{ord(first):04X}).",
        "% Compile the document with lualatex and this preamble (any installed CJK font",
        "% may replace WenQuanYi Micro Hei; see cpcstats.reporting.tables.unicode_preamble):",
        *(f"%   {line}" for line in UNICODE_PREAMBLE.splitlines()),
    ]
    return "\n".join(lines) + "\n"


_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9:._-]")


def _safe_label(label: str | None) -> str | None:
    """A label reduced to characters that are safe in ``\\label{}`` and an HTML ``id``.

    Why not just escape: ``\\label`` reads its argument verbatim, so a label is the one
    string that LaTeX escaping cannot protect; anything but letters, digits and
    ``: . _ -`` becomes ``-`` (names from specification files are identifiers already,
    so their labels are unchanged).
    """
    if label is None:
        return None
    safe = _LABEL_UNSAFE.sub("-", clean_text(label))[:200]
    return safe or None


def _markdown_escape(text: str) -> str:
    """Escape what Markdown reads as markup: emphasis, code, pipes, raw HTML and links.

    ``<``, ``>`` and ``&`` are backslash-escaped, so ``<script>`` or ``&#60;`` is shown
    as text by every CommonMark renderer instead of being passed through as raw HTML;
    ``[`` ``]`` cannot form a link and a leading ``#`` cannot make a heading.
    """
    text = re.sub(r"([\\`*_|<>&\[\]])", r"\\\1", clean_text(text))
    return "\\" + text if text.startswith("#") else text


# --------------------------------------------------------------------------- layout data


@dataclass(frozen=True)
class Cell:
    """One grid cell, kept semantic (number plus decorations) until a renderer formats it."""

    value: float | int | str | None = None
    digits: int = 3
    stars: str = ""
    paren: bool = False
    thousands: bool = False

    @property
    def is_empty(self) -> bool:
        return self.value is None

    def text(self) -> str:
        """Plain text (Markdown, HTML and ``to_frame`` use this)."""
        if self.value is None:
            return ""
        if isinstance(self.value, str):
            body = self.value
        else:
            body = format_number(self.value, self.digits, thousands=self.thousands)
        return f"({body}){self.stars}" if self.paren else f"{body}{self.stars}"

    def latex(self) -> str:
        """LaTeX text: escaped strings, and a real minus sign for negative numbers."""
        if self.value is None:
            return ""
        if isinstance(self.value, str):
            return latex_escape(self.text())
        text = self.text()
        return latex_escape(minus_sign(text))


@dataclass(frozen=True)
class Row:
    """A labelled row; ``term`` keeps the raw model term so callers can find rows."""

    label: str
    cells: tuple[Cell, ...]
    kind: str = "stat"  # "estimate", "se" or "stat"
    term: str | None = None


@dataclass(frozen=True)
class Block:
    """Rows separated from the previous block by a rule, with an optional header row."""

    rows: tuple[Row, ...]
    title: str | None = None


@dataclass(frozen=True)
class Note:
    """A table note; ``strong`` ones (simulated data, failed fits) are set in bold."""

    text: str
    strong: bool = False


@dataclass(frozen=True)
class Layout:
    header_rows: tuple[tuple[str, ...], ...]  # each includes the stub (first) cell
    blocks: tuple[Block, ...]
    notes: tuple[Note, ...]
    title: str | None
    label: str | None


def _latex_row(cells: Sequence[str]) -> str:
    """One tabular row; a first cell starting with ``*`` would be read as ``\\\\*``."""
    first = list(cells)
    if first and first[0].startswith("*"):
        first[0] = "{}" + first[0]
    return " & ".join(first) + r" \\"


class _Renderers:
    """LaTeX, Markdown, HTML and DataFrame renderers shared by every table type."""

    def _layout(self) -> Layout:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    # ---- LaTeX
    def to_latex(self, path: str | Path | None = None) -> str:
        """booktabs LaTeX in a ``table`` float; needs only ``\\usepackage{booktabs}``.

        With non-Latin text the file starts with a comment naming lualatex and
        :data:`UNICODE_PREAMBLE`; Latin text compiles with pdflatex.
        """
        lay = self._layout()
        ncol = len(lay.header_rows[0]) if lay.header_rows else len(lay.blocks[0].rows[0].cells) + 1
        out = [r"\begin{table}[htbp]", r"\centering"]
        if lay.title:
            out.append(rf"\caption{{{latex_escape(lay.title)}}}")
        label = _safe_label(lay.label)
        if label:
            out.append(rf"\label{{{label}}}")
        out.append(rf"\begin{{tabular}}{{l{'c' * (ncol - 1)}}}")
        out.append(r"\toprule")
        for header in lay.header_rows:
            out.append(_latex_row([latex_escape(h) for h in header]))
        for block in lay.blocks:
            out.append(r"\midrule")
            if block.title:
                out.append(
                    rf"\multicolumn{{{ncol}}}{{l}}{{\textit{{{latex_escape(block.title)}}}}} \\"
                )
            for row in block.rows:
                out.append(_latex_row([latex_escape(row.label), *(c.latex() for c in row.cells)]))
        out.append(r"\bottomrule")
        out.append(r"\end{tabular}")
        if lay.notes:
            out.append(r"\par\smallskip")
            out.append(r"{\footnotesize\raggedright")
            for note in lay.notes:
                text = latex_escape(note.text)
                out.append((rf"\textbf{{{text}}}" if note.strong else text) + r"\par")
            out.append("}")
        out.append(r"\end{table}")
        text = "\n".join(out) + "\n"
        if needs_unicode_engine(text):
            text = _unicode_header(text) + text
        if path is not None:
            write_atomic(path, text)
        return text

    # ---- Markdown
    def to_markdown(self, path: str | Path | None = None) -> str:
        """A pipe table followed by the notes; the family row becomes the first body row."""
        lay = self._layout()
        headers = lay.header_rows or (("",) * (len(lay.blocks[0].rows[0].cells) + 1),)
        ncol = len(headers[0])
        lines = ["| " + " | ".join(_markdown_escape(h) for h in headers[0]) + " |"]
        lines.append("|:---" + "|:---:" * (ncol - 1) + "|")
        for header in headers[1:]:
            lines.append("| " + " | ".join(_markdown_escape(h) for h in header) + " |")
        for block in lay.blocks:
            if block.title:
                title = f"**{_markdown_escape(block.title)}**"
                lines.append("| " + " | ".join([title] + [""] * (ncol - 1)) + " |")
            for row in block.rows:
                cells = [
                    _markdown_escape(row.label),
                    *(_markdown_escape(c.text()) for c in row.cells),
                ]
                lines.append("| " + " | ".join(cells) + " |")
        parts = []
        if lay.title:
            parts.append(f"**{_markdown_escape(lay.title)}**")
        parts.append("\n".join(lines))
        for note in lay.notes:
            text = _markdown_escape(note.text)
            parts.append(f"**{text}**" if note.strong else text)
        text = "\n\n".join(parts) + "\n"
        if path is not None:
            write_atomic(path, text)
        return text

    # ---- HTML
    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained ``<table>`` with caption, ``thead``, one ``tbody`` per block, notes."""
        lay = self._layout()

        def esc(text: str) -> str:
            return html.escape(clean_text(text))

        ncol = len(lay.header_rows[0]) if lay.header_rows else len(lay.blocks[0].rows[0].cells) + 1
        label = _safe_label(lay.label)
        table_id = f' id="{esc(label)}"' if label else ""
        out = [f'<table class="cpcstats-table"{table_id}>']
        if lay.title:
            out.append(f"<caption>{esc(lay.title)}</caption>")
        if lay.header_rows:
            out.append("<thead>")
            for header in lay.header_rows:
                cells = "".join(f"<th>{esc(h)}</th>" for h in header)
                out.append(f"<tr>{cells}</tr>")
            out.append("</thead>")
        for block in lay.blocks:
            out.append("<tbody>")
            if block.title:
                out.append(
                    f'<tr><th colspan="{ncol}" style="text-align:left">'
                    f"<em>{esc(block.title)}</em></th></tr>"
                )
            for row in block.rows:
                cells = "".join(
                    f'<td style="text-align:center">{esc(c.text())}</td>' for c in row.cells
                )
                out.append(f"<tr><td>{esc(row.label)}</td>{cells}</tr>")
            out.append("</tbody>")
        if lay.notes:
            out.append("<tfoot>")
            for note in lay.notes:
                text = f"<strong>{esc(note.text)}</strong>" if note.strong else esc(note.text)
                out.append(f'<tr><td colspan="{ncol}">{text}</td></tr>')
            out.append("</tfoot>")
        out.append("</table>")
        text = "\n".join(out) + "\n"
        if path is not None:
            write_atomic(path, text)
        return text

    def _repr_html_(self) -> str:
        return self.to_html()

    # ---- DataFrame
    def to_frame(self) -> pd.DataFrame:
        """The display grid as strings (block headers become rows with empty cells)."""
        lay = self._layout()
        labels: list[str] = []
        rows: list[list[str]] = []
        width = len(lay.header_rows[0]) - 1 if lay.header_rows else None
        for block in lay.blocks:
            if block.title:
                labels.append(block.title)
                rows.append([""] * (width if width is not None else len(block.rows[0].cells)))
            for row in block.rows:
                labels.append(row.label)
                rows.append([c.text() for c in row.cells])
        if len(lay.header_rows) > 1:
            columns: pd.Index = pd.MultiIndex.from_tuples(
                list(zip(*(h[1:] for h in lay.header_rows), strict=True))
            )
        elif lay.header_rows:
            columns = pd.Index(list(lay.header_rows[0][1:]))
        else:
            columns = pd.RangeIndex(len(rows[0]) if rows else 0)
        index = pd.Index(labels, name=(lay.header_rows[0][0] or None) if lay.header_rows else None)
        return pd.DataFrame(rows, index=index, columns=columns, dtype=object)


# --------------------------------------------------------------------------- regression tables


@dataclass(frozen=True)
class RegressionTable(_Renderers):
    """Side-by-side models: headers, coefficient blocks, statistics block and notes."""

    model_names: tuple[str, ...]
    families: tuple[str, ...]
    coef_blocks: tuple[Block, ...]
    stats_block: Block
    notes: tuple[Note, ...] = ()
    title: str | None = None
    label: str | None = None

    def _layout(self) -> Layout:
        return Layout(
            header_rows=(("", *self.model_names), ("", *self.families)),
            blocks=(*self.coef_blocks, self.stats_block),
            notes=self.notes,
            title=self.title,
            label=self.label,
        )

    def find_row(self, term: str, kind: str = "estimate") -> Row:
        """The estimate (or ``kind="se"``) row of a raw term name, e.g. ``"inflate:x"``."""
        for block in self.coef_blocks:
            for row in block.rows:
                if row.term == term and row.kind == kind:
                    return row
        raise KeyError(f"term {term!r} ({kind}) is not in the table")

    def stat_row(self, label: str) -> Row:
        """The statistics row with the given label (``"N"``, ``"Clusters"``, ...)."""
        for row in self.stats_block.rows:
            if row.label == label:
                return row
        raise KeyError(f"statistic {label!r} is not in the table")


def _model_list(indices: Sequence[int]) -> str:
    nums = [str(i + 1) for i in indices]
    return f"Model {nums[0]}" if len(nums) == 1 else f"Models {', '.join(nums)}"


def _se_note(models: Sequence[FitResult]) -> str | None:
    """One note for all SE descriptions, listing models only when they differ."""
    groups: dict[str, list[int]] = {}
    for i, m in enumerate(models):
        desc = (m.se_description or "").strip().rstrip(".")
        desc = re.sub(r"^(standard errors|SEs?)\s+", "", desc, flags=re.IGNORECASE)
        if desc:
            groups.setdefault(desc, []).append(i)
    if not groups:
        return None
    if len(groups) == 1:
        return f"Standard errors in parentheses: {next(iter(groups))}."
    parts = [f"{desc} in {_model_list(idx)}" for desc, idx in groups.items()]
    return "Standard errors in parentheses: " + "; ".join(parts) + "."


def _flag_notes(models: Sequence[FitResult], names: Sequence[str]) -> list[Note]:
    notes = []
    for i, (m, name) in enumerate(zip(models, names, strict=True)):
        who = f"{FLAG} Model {i + 1} ({name})"
        detail = "; ".join(str(w).strip().rstrip(".") for w in m.warnings)
        if not m.converged:
            reason = detail or "its estimates are not reliable"
            notes.append(Note(f"{who} did not converge: {reason}.", strong=True))
        elif detail:
            notes.append(Note(f"{who} warning: {detail}.", strong=True))
    return notes


def _missing_notes(models: Sequence[FitResult], names: Sequence[str]) -> list[Note]:
    """Per model, the rows its estimation sample lost to missing values, by variable.

    Why in the table: a reader comparing the N of two columns must see that one model
    lost rows to a missing covariate (rows are never dropped silently); the counts come
    from the model's sample account (``FitResult.sample.dropped``, keys ``missing x``).
    """
    notes = []
    for i, (m, name) in enumerate(zip(models, names, strict=True)):
        dropped = m.sample.dropped if m.sample is not None else {}
        per_variable = {
            reason.removeprefix("missing "): int(count)
            for reason, count in dropped.items()
            if reason.startswith("missing ") and count
        }
        if not per_variable:
            continue
        total = sum(per_variable.values())
        detail = ", ".join(f"{var}: {n:,}" for var, n in per_variable.items())
        rows = "row" if total == 1 else "rows"
        notes.append(
            Note(f"Model {i + 1} ({name}): {total:,} {rows} dropped for missing values ({detail}).")
        )
    return notes


def _collect_terms(
    models: Sequence[FitResult], coef_map: Mapping[str, str] | None
) -> list[tuple[str, str, list[str | None]]]:
    """Display rows as ``(part, label, term per model)`` in display order.

    With a ``coef_map`` several raw names may share a label (one row), which
    harmonises differently named terms across models.
    """
    rows: dict[tuple[str, str], list[str | None]] = {}
    labels: dict[tuple[str, str], str] = {}
    if coef_map is None:
        for m in models:
            for term in m.params.index:
                key = (split_part(str(term))[0], str(term))
                if key not in rows:
                    rows[key] = [None] * len(models)
                    labels[key] = pretty_term(str(term))
        for key in rows:
            for j, m in enumerate(models):
                if key[1] in m.params.index:
                    rows[key][j] = key[1]
    else:
        for term, label in coef_map.items():
            key = (split_part(term)[0], label)
            for j, m in enumerate(models):
                if term not in m.params.index:
                    continue
                slot = rows.setdefault(key, [None] * len(models))
                labels[key] = label
                if slot[j] is not None:
                    raise ValueError(
                        f"coef_map maps both {slot[j]!r} and {term!r} to {label!r} in model {j + 1}"
                    )
                slot[j] = term
    part_order = [""] + [p for p in dict.fromkeys(k[0] for k in rows) if p]
    return [(part, labels[key], rows[key]) for part in part_order for key in rows if key[0] == part]


def table(
    models: Sequence[FitResult],
    *,
    irr: bool = False,
    coef_map: Mapping[str, str] | None = None,
    stars: Sequence[float] = (0.10, 0.05, 0.01),
    digits: int = 3,
    title: str | None = None,
    label: str | None = None,
    notes: Sequence[str] = (),
    model_names: Sequence[str] | None = None,
) -> RegressionTable:
    """Lay out several fitted models side by side as a :class:`RegressionTable`.

    ``irr=True`` shows exp(b) with delta-method SEs exp(b)·se while the stars
    still test b = 0.  ``coef_map`` (raw term → label) fixes order and labels
    and drops unlisted terms.  Failed or warned fits are flagged in the header
    (``†``) and in bold notes, and simulated estimates carry a bold banner note.
    """
    models = list(models)
    if not models:
        raise ValueError("table() needs at least one model")
    if isinstance(stars, (int, float)):
        raise TypeError("stars must be a sequence of p-value thresholds, e.g. (0.10, 0.05, 0.01)")
    thresholds = sorted((float(t) for t in stars), reverse=True)
    if any(not 0 < t < 1 for t in thresholds):
        raise ValueError(f"star thresholds must lie in (0, 1), got {list(stars)}")
    if int(digits) != digits or digits < 0:
        raise ValueError(f"digits must be a non-negative integer, got {digits!r}")
    names = [m.name for m in models] if model_names is None else [str(n) for n in model_names]
    if len(names) != len(models):
        raise ValueError(f"{len(names)} model_names for {len(models)} models")

    flagged = [(not m.converged) or bool(m.warnings) for m in models]
    headers = tuple(f"{n} {FLAG}" if f else n for n, f in zip(names, flagged, strict=True))
    families = tuple(str(m.extra.get("family_label", m.family)) for m in models)

    # --- coefficient blocks
    blocks: list[Block] = []
    entries = _collect_terms(models, coef_map)
    parts = list(dict.fromkeys(part for part, _, _ in entries))
    for part in parts:
        block_rows: list[Row] = []
        for _, row_label, terms in (e for e in entries if e[0] == part):
            est_cells: list[Cell] = []
            se_cells: list[Cell] = []
            for m, term in zip(models, terms, strict=True):
                if term is None:
                    est_cells.append(Cell())
                    se_cells.append(Cell())
                    continue
                b = float(m.params[term])
                se = float(m.std_errors[term])
                p = float(m.pvalues[term])
                est, err = (math.exp(b), math.exp(b) * se) if irr else (b, se)
                est_cells.append(Cell(est, digits, stars=star_string(p, thresholds)))
                se_cells.append(Cell(err, digits, paren=True))
            key = next(t for t in terms if t is not None)
            block_rows.append(Row(row_label, tuple(est_cells), "estimate", key))
            block_rows.append(Row("", tuple(se_cells), "se", key))
        if part:
            block_title: str | None = PART_TITLES[part]
        else:
            block_title = COUNT_PART_TITLE if len(parts) > 1 else None
        blocks.append(Block(tuple(block_rows), block_title))

    # --- statistics block
    stat_rows = [Row("N", tuple(Cell(int(m.nobs), thousands=True) for m in models))]
    if any(m.n_clusters is not None for m in models):
        stat_rows.append(
            Row(
                "Clusters",
                tuple(
                    Cell(int(m.n_clusters), thousands=True)
                    if m.n_clusters is not None
                    else Cell(MISSING)
                    for m in models
                ),
            )
        )
    stat_rows.append(Row("Log-likelihood", tuple(Cell(float(m.loglik), digits) for m in models)))
    stat_rows.append(Row("AIC", tuple(Cell(float(m.aic), digits) for m in models)))
    if any(m.alpha is not None for m in models):
        stat_rows.append(
            Row(
                "NB dispersion α",
                tuple(
                    Cell(float(m.alpha), digits) if m.alpha is not None else Cell(MISSING)
                    for m in models
                ),
            )
        )
        if any(m.alpha_se is not None for m in models):
            stat_rows.append(
                Row(
                    "",
                    tuple(
                        Cell(float(m.alpha_se), digits, paren=True)
                        if m.alpha_se is not None
                        else Cell()
                        for m in models
                    ),
                    kind="se",
                )
            )
    stat_rows.append(
        Row(
            "Fixed effects",
            tuple(Cell(", ".join(m.fixed_effects) if m.fixed_effects else MISSING) for m in models),
        )
    )
    stat_rows.append(Row("Std. errors", tuple(Cell(se_label(m)) for m in models)))

    # --- notes: alarms first, then how to read the numbers, then the caller's notes
    table_notes: list[Note] = []
    if any(m.simulated for m in models):
        table_notes.append(Note(SIMULATED_NOTE, strong=True))
    table_notes.extend(_flag_notes(models, names))
    table_notes.extend(_missing_notes(models, names))
    se_note = _se_note(models)
    if se_note:
        table_notes.append(Note(se_note))
    if irr:
        irr_note = (
            "Coefficients shown as incidence-rate ratios exp(b) with delta-method standard "
            "errors exp(b)·se; stars test b = 0."
        )
        if len(parts) > 1 or (parts and parts[0]):
            irr_note += " Inflation/zero-hurdle coefficients are exponentiated to odds ratios."
        table_notes.append(Note(irr_note))
    if thresholds:
        table_notes.append(Note(star_legend(thresholds)))
    table_notes.extend(Note(str(n)) for n in notes)

    return RegressionTable(
        model_names=headers,
        families=families,
        coef_blocks=tuple(blocks),
        stats_block=Block(tuple(stat_rows)),
        notes=tuple(table_notes),
        title=title,
        label=label,
    )


# --------------------------------------------------------------------------- descriptive tables


@dataclass(frozen=True)
class SimpleTable(_Renderers):
    """A descriptive table (shares, counts) with the same renderers as regression tables."""

    stub_header: str
    columns: tuple[str, ...]
    body: Block
    notes: tuple[Note, ...] = ()
    title: str | None = None
    label: str | None = None

    def _layout(self) -> Layout:
        return Layout(
            header_rows=((self.stub_header, *self.columns),),
            blocks=(self.body,),
            notes=self.notes,
            title=self.title,
            label=self.label,
        )


def _cell_from_value(value: Any, digits: int, thousands: bool) -> Cell:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return Cell()
    if isinstance(value, (bool, np.bool_)):
        return Cell("yes" if value else "no")
    if isinstance(value, (int, np.integer)):
        return Cell(int(value), thousands=thousands)
    if isinstance(value, (float, np.floating)):
        return Cell(float(value), digits, thousands=thousands)
    return Cell(str(value))


def stats_table(
    frame: pd.DataFrame,
    *,
    title: str | None = None,
    label: str | None = None,
    notes: Sequence[str] = (),
    digits: int | Mapping[str, int] = 3,
    thousands: bool = True,
    simulated: bool = False,
) -> SimpleTable:
    """Render a descriptive DataFrame (index = row labels) with the regression renderers.

    ``digits`` may be a mapping column → digits; integers keep no decimals.
    ``thousands=False`` suits integer columns such as years.
    """
    columns = [
        " ".join(str(c) for c in col) if isinstance(col, tuple) else str(col)
        for col in frame.columns
    ]
    per_column = [
        digits.get(str(col), 3) if isinstance(digits, Mapping) else int(digits)
        for col in frame.columns
    ]
    rows = []
    for idx, values in zip(frame.index, frame.itertuples(index=False, name=None), strict=True):
        label_text = " ".join(str(i) for i in idx) if isinstance(idx, tuple) else str(idx)
        cells = tuple(
            _cell_from_value(v, d, thousands) for v, d in zip(values, per_column, strict=True)
        )
        rows.append(Row(label_text, cells))
    all_notes = [Note(SIMULATED_NOTE, strong=True)] if simulated else []
    all_notes.extend(Note(str(n)) for n in notes)
    stub = frame.index.name if isinstance(frame.index.name, str) else ""
    return SimpleTable(
        stub_header=stub,
        columns=tuple(columns),
        body=Block(tuple(rows)),
        notes=tuple(all_notes),
        title=title,
        label=label,
    )
