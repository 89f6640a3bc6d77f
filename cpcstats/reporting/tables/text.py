r"""Text safety for every renderer: cleaning, LaTeX/Markdown/HTML escaping, engine choice.

Every string reaches a renderer through one cleaning step (`clean_text`): control and
format characters are removed and line breaks become spaces, so a caption, note, label or
cell cannot end a paragraph inside ``\caption`` or break a Markdown row.  Each renderer then
escapes: LaTeX specials (``\ { } $ % & # _ ^ ~ [ ]``) become text commands so ``\input{...}``
in a party name is printed, not run; labels are reduced to ``[A-Za-z0-9:._-]``; Markdown gets
backslash escapes for emphasis, pipes and raw HTML (``<``, ``>``, ``&``) and link brackets;
HTML is entity-escaped.

Engines: tables whose text is Latin (ASCII, accented Latin letters, the symbols in
`LATEX_CHARS`) compile with pdflatex and `LATEX_PREAMBLE` (booktabs, threeparttable,
threeparttablex, siunitx, pdflscape, longtable, graphicx; every ``.tex`` file names them in
its first comment line).  Tables with other
scripts (Cyrillic or CJK party names, for example) carry a comment at the top of the ``.tex``
file and compile with **lualatex** and `UNICODE_PREAMBLE`.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = [
    "LATEX_CHARS",
    "LATEX_PACKAGES",
    "LATEX_PREAMBLE",
    "UNICODE_PREAMBLE",
    "clean_text",
    "html_escape",
    "latex_escape",
    "markdown_escape",
    "needs_unicode_engine",
    "preamble_header",
    "safe_label",
    "unicode_header",
    "unicode_preamble",
]

#: Characters LaTeX would read as markup, and the Unicode symbols tables use, as core LaTeX.
LATEX_CHARS: dict[str, str] = {
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
    "η": r"$\eta$",
    "ν": r"$\nu$",
    "ξ": r"$\xi$",
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
    ``^^`` character code; control characters are removed first (`clean_text`).
    """
    return "".join(LATEX_CHARS.get(ch, ch) for ch in clean_text(text))


# Code points pdflatex typesets with the default (OT1) encoding and utf8 input, measured
# by compiling each of U+00A0..U+024F alone; everything else above ASCII that
# `LATEX_CHARS` does not map needs lualatex (see UNICODE_PREAMBLE).
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


#: The packages every table may use: rules, notes as wide as the table, decimal alignment,
#: landscape pages, tables breaking across pages, resizing.
LATEX_PACKAGES: tuple[str, ...] = (
    "booktabs",
    "threeparttable",
    "threeparttablex",
    "siunitx",
    "pdflscape",
    "longtable",
    "graphicx",
)

#: The preamble a document needs for the tables (pdflatex; see `UNICODE_PREAMBLE` otherwise).
LATEX_PREAMBLE = "".join(f"\\usepackage{{{name}}}\n" for name in LATEX_PACKAGES)


def preamble_header(placement: str, preamble: str = LATEX_PREAMBLE) -> str:
    """The first comment line of a ``.tex`` table: how it is placed and what it needs.

    Why a comment: a user who ``\\input``s the file sees in it which packages to load
    (written without the backslash command, so the file never loads anything itself).
    """
    names = re.findall(r"usepackage\{([^}]*)\}", preamble)
    return (
        f"% cpcstats table, placed {placement}; needs the packages {', '.join(names)} "
        "(cpcstats.reporting.tables.text.LATEX_PREAMBLE)\n"
    )


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
        LATEX_PREAMBLE + "\\usepackage{fontspec}\n"
        f'\\directlua{{luaotfload.add_fallback("cpcstats", {{"{cjk_font}:mode=harf;"}})}}\n'
        f"\\setmainfont{{{main_font}}}[RawFeature={{fallback=cpcstats}}]\n"
    )


#: The default lualatex preamble (see `unicode_preamble`).
UNICODE_PREAMBLE = unicode_preamble()


def unicode_header(text: str) -> str:
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


def safe_label(label: str | None) -> str | None:
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


def markdown_escape(text: str) -> str:
    """Escape what Markdown reads as markup: emphasis, code, pipes, raw HTML and links.

    ``<``, ``>`` and ``&`` are backslash-escaped, so ``<script>`` or ``&#60;`` is shown
    as text by every CommonMark renderer instead of being passed through as raw HTML;
    ``[`` ``]`` cannot form a link and a leading ``#`` cannot make a heading.
    """
    text = re.sub(r"([\\`*_|<>&\[\]])", r"\\\1", clean_text(text))
    return "\\" + text if text.startswith("#") else text


def html_escape(text: object) -> str:
    """Entity-escaped text for HTML, after `clean_text`."""
    return html.escape(clean_text(text))
