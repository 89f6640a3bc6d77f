"""What every table type shares: its layout and one method per registered format."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cpcstats.reporting.tables.layout import Layout
from cpcstats.reporting.tables.render import render
from cpcstats.reporting.tables.render_frame import render_frame

__all__ = ["LayoutTable"]


class LayoutTable:
    """Base of every table: subclasses build a `Layout` in ``_layout``.

    Why a base class and not free functions only: notebooks show a table through
    ``_repr_html_`` and callers write ``tab.to_latex(path)``; every method goes through
    the renderer registry (`cpcstats.reporting.tables.render.RENDERERS`).
    """

    def _layout(self) -> Layout:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def layout(self) -> Layout:
        """The table as layout data (what every renderer reads)."""
        return self._layout()

    def render(self, fmt: str, path: str | Path | None = None) -> str:
        """The table in format ``fmt`` (``"tex"``, ``"md"``, ``"html"``), written if ``path``.

        Raises
        ------
        ValueError
            ``fmt`` is not a registered format.
        OutputError
            ``path`` cannot be written.
        """
        return render(self.layout(), fmt, path)

    def to_latex(self, path: str | Path | None = None) -> str:
        """booktabs LaTeX placed on an A4 page with 2.5 cm margins by rule.

        The rule (`cpcstats.reporting.tables.page_fit`) sets the table as a portrait
        float, on a landscape page, resized, or as a ``longtable`` breaking across pages,
        from its estimated width and height (``Layout.placement`` forces one).  The
        file's first line is a comment naming the packages it needs
        (`cpcstats.reporting.tables.text.LATEX_PREAMBLE`); with non-Latin text it starts
        with a comment naming lualatex and `cpcstats.reporting.tables.text.UNICODE_PREAMBLE`.

        Parameters
        ----------
        path : str or pathlib.Path, optional
            Also write the text there (atomically, UTF-8).

        Returns
        -------
        str
            The table as LaTeX.

        Raises
        ------
        OutputError
            ``path`` cannot be written (read-only folder, disk full, a folder in the way).

        Examples
        --------
        >>> print(tab.to_latex().splitlines()[0][:33])  # tab = cpcstats.table([...])
        % cpcstats table, placed portrait
        >>> tab.to_latex("table.tex")  # doctest: +SKIP
        """
        return self.render("tex", path)

    def to_markdown(self, path: str | Path | None = None) -> str:
        """A pipe table followed by the notes; header rows after the first become body rows
        and a spanning header is repeated over its columns.

        Parameters
        ----------
        path : str or pathlib.Path, optional
            Also write the text there (atomically, UTF-8).

        Returns
        -------
        str
            The table as Markdown.

        Raises
        ------
        OutputError
            ``path`` cannot be written (read-only folder, disk full, a folder in the way).

        Examples
        --------
        >>> print(tab.to_markdown().splitlines()[1])  # tab = cpcstats.table([...])
        |:---|:---:|:---:|
        """
        return self.render("md", path)

    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained ``<table>`` with caption, ``thead`` (spans as ``colspan``), one
        ``tbody`` per block, notes in ``tfoot``.

        Notebooks show a table through this (``_repr_html_``).

        Parameters
        ----------
        path : str or pathlib.Path, optional
            Also write the text there (atomically, UTF-8).

        Returns
        -------
        str
            The table as HTML.

        Raises
        ------
        OutputError
            ``path`` cannot be written (read-only folder, disk full, a folder in the way).

        Examples
        --------
        >>> tab.to_html().startswith("<table")  # tab = cpcstats.table([...])
        True
        """
        return self.render("html", path)

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_frame(self) -> pd.DataFrame:
        """The display grid as strings (block headers become rows with empty cells).

        Why: to inspect or post-process a table with pandas, or to mix it into
        another report, without parsing a rendered format.

        Returns
        -------
        pandas.DataFrame
            Indexed by the row labels (estimates, SEs in parentheses, statistics),
            one column per model (a MultiIndex of name and family); every cell is the
            text the renderers show.

        Examples
        --------
        >>> grid = tab.to_frame()  # tab = cpcstats.table([...])
        >>> grid.shape[1] == len(tab.model_names)
        True
        """
        return render_frame(self.layout())
