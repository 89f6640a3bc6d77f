"""Figure 3: a world choropleth of contacts per country, from shapes shipped with cpcstats.

Nothing is downloaded: the shapes are Natural Earth's 1:110m Admin 0 countries (public
domain), the TopoJSON of the npm package world-atlas 2.0.2 copied unchanged into
``cpcstats/reference/world_atlas/`` (``SOURCE.md``: source, terms, SHA-256), read with
`importlib.resources` and decoded by the numpy decoder below (no geo dependency).  The
projection is Equal Earth (equal-area, so no country looks bigger for its latitude):
Šavrič, Patterson & Jenny (2018), "The Equal Earth map projection", *Int. J. Geogr. Inf.
Sci.* 33(3), 454-465, doi:10.1080/13658816.2018.1504949.

What the map says and what it does not: countries with contacts are coloured on a
sequential scale (log by default, ticks from matplotlib's `LogLocator`); countries with
zero contacts or absent from ``values`` get the ``missing_label`` colour (never log(0));
China is drawn in a neutral highlight colour and labelled.  Countries with contacts that
the 1:110m map does not have (small island states) are not dropped silently: they are
returned in `WorldMap.not_drawn` and counted in a footnote of the figure.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import ListedColormap, LogNorm, Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from cpcstats.countries import country_name, is_iso3
from cpcstats.errors import InputError
from cpcstats.reporting.style import mark_simulated, new_figure, save_figure, style

__all__ = [
    "ATLAS_FILE",
    "ATLAS_SHA256",
    "CHINA_COLOUR",
    "MISSING_COLOUR",
    "NO_ID_SHAPES",
    "CountryShape",
    "WorldMap",
    "atlas_text",
    "country_shapes",
    "decode_topojson",
    "equal_earth",
    "numeric_to_iso3",
    "world_map",
]

ATLAS_FILE = "countries-110m.json"
ATLAS_SHA256 = "2516c915867c7baf18ddec727aec46c315541a07cfb3d79a6559b05d5e94eee8"

NO_ID_SHAPES: dict[str, str] = {"Kosovo": "XKX", "N. Cyprus": "CYP", "Somaliland": "SOM"}
"""Shapes without an ISO numeric id (missing or "-99") and the ISO3 they are drawn as.

Kosovo is XKX, as in `cpcstats.countries`.  N. Cyprus and Somaliland are not UN members;
contacts are coded by the states they belong to in international law (Cyprus, Somalia)."""

NOT_DRAWN_SHAPES = frozenset({"ATA"})
"""Antarctica is left out: no contacts, and a sixth of the map's height."""

MISSING_COLOUR = "#dcdcdc"
CHINA_COLOUR = "#6b6b6b"
_CMAP = ListedColormap(colormaps["YlGnBu"](np.linspace(0.12, 1.0, 256)), name="cpc_ylgnbu")
_LAT_RANGE = (-58.0, 84.0)  # the map's extent without Antarctica

# Equal Earth constants (Šavrič, Patterson & Jenny 2018, eq. 1-2).
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = np.sqrt(3.0) / 2.0


# --------------------------------------------------------------------------- decoding


@dataclass(frozen=True)
class CountryShape:
    """One TopoJSON geometry: its id, name, ISO3 (None if unknown) and polygons.

    ``polygons`` holds one tuple of rings per polygon (exterior first, then holes); each
    ring is an ``(n, 2)`` array of longitude, latitude in degrees, closed (first = last).
    """

    id: str | None
    name: str
    iso3: str | None
    polygons: tuple[tuple[np.ndarray, ...], ...] = field(repr=False)


def _decode_arcs(topology: Mapping[str, Any]) -> list[np.ndarray]:
    """Absolute coordinates of every arc: undo delta encoding and quantization."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        points = np.asarray(arc, dtype=float).reshape(len(arc), -1)[:, :2]
        if transform is not None:
            scale = np.asarray(transform["scale"], dtype=float)
            translate = np.asarray(transform["translate"], dtype=float)
            points = np.cumsum(points, axis=0) * scale + translate
        arcs.append(points)
    return arcs


def _ring(arcs: Sequence[np.ndarray], indices: Sequence[int]) -> np.ndarray:
    """Join arcs into a ring; index ``~i`` (negative) is arc ``i`` reversed.

    Consecutive arcs share their joining point, so it is kept once.
    """
    parts = []
    for k, i in enumerate(indices):
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(arc if k == 0 else arc[1:])
    return np.concatenate(parts)


def decode_topojson(
    topology: Mapping[str, Any], object_name: str = "countries"
) -> list[CountryShape]:
    """The Polygon and MultiPolygon geometries of one object of a TopoJSON topology.

    Follows the TopoJSON specification 1.0 (§2.1.2 transforms, §2.2 arcs, §2.2.4 arc
    indexes).  ``iso3`` is left None here; `country_shapes` fills it.  Other geometry
    types (points, lines, null) carry no area and are skipped.

    Raises
    ------
    InputError
        The mapping is not a topology or lacks ``object_name``.
    """
    if topology.get("type") != "Topology" or "arcs" not in topology:
        raise InputError(
            "not a TopoJSON topology (no type 'Topology' with 'arcs')",
            fix="pass the parsed JSON of a TopoJSON file",
        )
    objects = topology.get("objects", {})
    if object_name not in objects:
        raise InputError(
            f"the topology has no object {object_name!r} (it has {sorted(objects)})",
            fix="name one of its objects",
        )
    arcs = _decode_arcs(topology)
    shapes = []
    for geometry in objects[object_name].get("geometries", []):
        kind = geometry.get("type")
        if kind not in ("Polygon", "MultiPolygon"):
            continue
        polygons = geometry["arcs"] if kind == "MultiPolygon" else [geometry["arcs"]]
        raw_id = geometry.get("id")
        shapes.append(
            CountryShape(
                id=None if raw_id in (None, "-99") else str(raw_id),
                name=str(geometry.get("properties", {}).get("name", "")),
                iso3=None,
                polygons=tuple(tuple(_ring(arcs, ring) for ring in poly) for poly in polygons),
            )
        )
    return shapes


def atlas_text() -> str:
    """The shipped TopoJSON as text, read from the installed package (never downloaded)."""
    folder = resources.files("cpcstats.reference") / "world_atlas"
    return (folder / ATLAS_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def numeric_to_iso3() -> dict[int, str]:
    """ISO 3166-1 numeric -> alpha-3, from country_converter's table (read once, cached).

    `cpcstats.countries` has no numeric codes; coco's bundled table has them.  Only the
    data file is read (no regex compilation), and only when a map is drawn.
    """
    from country_converter.country_converter import COUNTRY_DATA_FILE

    columns = ["ISO3", "ISOnumeric"]
    data = pd.read_csv(
        COUNTRY_DATA_FILE, sep="\t", dtype=str, keep_default_na=False, usecols=columns
    )
    table: dict[int, str] = {}
    for iso3, numeric in zip(data["ISO3"], data["ISOnumeric"], strict=True):
        if numeric.strip().isdigit() and len(iso3.strip()) == 3:
            table.setdefault(int(numeric), iso3.strip().upper())
    return table


@lru_cache(maxsize=1)
def country_shapes() -> tuple[CountryShape, ...]:
    """The shipped 1:110m countries with their ISO3 codes (`NO_ID_SHAPES` for those without).

    A shape whose numeric id coco does not know keeps ``iso3=None`` and is drawn in the
    missing colour (none in world-atlas 2.0.2; a test checks).
    """
    table = numeric_to_iso3()
    shapes = []
    for shape in decode_topojson(json.loads(atlas_text())):
        if shape.id is None:
            iso3 = NO_ID_SHAPES.get(shape.name)
        else:
            iso3 = table.get(int(shape.id)) if shape.id.isdigit() else None
        shapes.append(CountryShape(shape.id, shape.name, iso3, shape.polygons))
    return tuple(shapes)


# --------------------------------------------------------------------------- projection


def equal_earth(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equal Earth x, y (unit sphere) of longitudes and latitudes in degrees.

    Šavrič, Patterson & Jenny (2018), eq. 1: θ = asin(√3/2 · sin φ),
    x = λ cos θ / (√3/2 · (A1 + 3A2θ² + θ⁶(7A3 + 9A4θ²))), y = θ(A1 + A2θ² + θ⁶(A3 + A4θ²)).
    Longitudes beyond ±180 are projected by the same formulas (the map clips them).
    """
    lam = np.radians(np.asarray(lon, dtype=float))
    theta = np.arcsin(_M * np.sin(np.radians(np.asarray(lat, dtype=float))))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * np.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


def _split_antimeridian(ring: np.ndarray) -> list[np.ndarray]:
    """A ring that jumps across ±180° (Fiji, Chukotka) as two copies, 360° apart.

    The longitudes are unwrapped so the ring is contiguous (e.g. 177°..182°); the copy
    shifted by 360° supplies the part on the other edge.  Both overhang the map and are
    clipped by its outline, so nothing smears across the map.
    """
    if np.abs(np.diff(ring[:, 0])).max(initial=0.0) <= 180.0:
        return [ring]
    lon = np.unwrap(ring[:, 0], period=360.0)
    shift = -360.0 if lon.mean() > 0 else 360.0
    unwrapped = np.column_stack([lon, ring[:, 1]])
    return [unwrapped, unwrapped + np.array([shift, 0.0])]


def _country_path(shapes: Sequence[CountryShape]) -> tuple[np.ndarray, np.ndarray]:
    """One compound path (vertices, codes) of all rings of one country, projected."""
    verts, codes = [], []
    for shape in shapes:
        for polygon in shape.polygons:
            for ring in polygon:
                for part in _split_antimeridian(ring):
                    x, y = equal_earth(part[:, 0], part[:, 1])
                    verts.append(np.column_stack([x, y]))
                    code = np.full(len(part), MplPath.LINETO, dtype=MplPath.code_type)
                    code[0], code[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
                    codes.append(code)
    return np.concatenate(verts), np.concatenate(codes)


@lru_cache(maxsize=1)
def _projected_countries() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """ISO3 -> projected compound path, in ISO3 order (shapes sharing a code merged)."""
    grouped: dict[str, list[CountryShape]] = {}
    for shape in country_shapes():
        if shape.iso3 is not None and shape.iso3 not in NOT_DRAWN_SHAPES:
            grouped.setdefault(shape.iso3, []).append(shape)
    return {iso3: _country_path(grouped[iso3]) for iso3 in sorted(grouped)}


def _outline() -> MplPath:
    """The map's edge: the ±180° meridians between the map's latitude limits."""
    lat = np.linspace(_LAT_RANGE[0], _LAT_RANGE[1], 181)
    lon = np.concatenate([np.full(lat.size, -180.0), np.full(lat.size, 180.0)])
    x, y = equal_earth(lon, np.concatenate([lat, lat[::-1]]))
    return MplPath(np.column_stack([x, y]), closed=True)


# --------------------------------------------------------------------------- the figure


@dataclass
class WorldMap:
    """The world map figure and what it could not show.

    ``figure`` is a matplotlib `Figure` (Agg canvas, not registered with pyplot);
    ``drawn`` the ISO3 codes of the main collection's paths, in order; ``not_drawn`` the
    ISO3 codes (sorted) with positive values that the 1:110m map has no shape for.
    """

    figure: Figure
    drawn: tuple[str, ...]
    not_drawn: tuple[str, ...]

    def save(self, stem: str | Path) -> list[Path]:
        """Write ``<stem>.pdf`` and ``<stem>.png`` without run-dependent metadata."""
        return save_figure(self.figure, stem)


def _check_values(values: pd.Series) -> pd.Series:
    """Values as floats indexed by upper-case ISO3; bad input is an `InputError`."""
    if not isinstance(values, pd.Series):
        raise InputError(
            f"world_map needs a pandas Series indexed by ISO3, not {type(values).__name__}",
            fix="pass e.g. contacts.groupby('iso3').size()",
        )
    numeric = pd.to_numeric(values, errors="coerce").astype(float)
    bad = values.index[~np.isfinite(numeric.to_numpy()) | (numeric.to_numpy() < 0)]
    if len(bad):
        raise InputError(
            f"world_map values must be finite and >= 0; not so for {list(bad[:5])}",
            column="values",
            fix="count contacts per country (zero where there are none)",
        )
    index = pd.Index([str(code).strip().upper() for code in values.index])
    unknown = sorted(code for code in set(index) if not is_iso3(code))
    if unknown:
        raise InputError(
            f"world_map values are indexed by ISO3 codes; not so for {unknown[:5]}",
            fix="harmonise the countries first (cpcstats.countries.harmonise_countries)",
        )
    if index.duplicated().any():
        raise InputError(
            f"world_map values name a country twice: {sorted(set(index[index.duplicated()]))}",
            fix="sum the values per ISO3 code first",
        )
    return pd.Series(numeric.to_numpy(), index=index)


def _norm(positive: np.ndarray, scale: str) -> Normalize:
    """The colour scale over the positive values (log or linear)."""
    if scale not in ("log", "linear"):
        raise InputError(f"unknown scale {scale!r}", column="scale", fix="use 'log' or 'linear'")
    top = float(positive.max()) if positive.size else 1.0
    if scale == "log":
        low = float(positive.min()) if positive.size else 1.0
        return LogNorm(vmin=low, vmax=max(top, low * 10.0 if top <= low else top))
    return Normalize(vmin=0.0, vmax=max(top, 1.0))


def _colourbar(fig: Figure, norm: Normalize, label: str) -> None:
    """A horizontal colour bar; log ticks from `LogLocator` (1, 2, 5 per decade)."""
    cax = fig.add_axes((0.40, 0.175, 0.50, 0.032))
    bar = fig.colorbar(
        ScalarMappable(norm, _CMAP),
        cax=cax,
        orientation="horizontal",
    )
    if isinstance(norm, LogNorm):
        bar.ax.xaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
        bar.ax.xaxis.set_minor_locator(LogLocator(base=10.0, subs="auto"))
        bar.ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        bar.ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    bar.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    bar.ax.tick_params(labelsize=8)
    bar.outline.set_linewidth(0.5)
    bar.ax.set_title(label, fontsize=9, pad=3)


def _footnote(not_drawn: Sequence[str], what: str) -> str:
    """One line naming the countries with contacts the map has no shape for."""
    if not not_drawn:
        return ""
    names = [country_name(code) for code in not_drawn]
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    noun = "country" if len(names) == 1 else "countries"
    verb = "is" if len(names) == 1 else "are"
    return f"{len(names)} {noun} with {what} {verb} too small to draw at this scale: {shown}."


def _face_colours(codes: Sequence[str], values: pd.Series, norm: Normalize) -> np.ndarray:
    """RGBA per country: the scale's colour if positive, the missing colour otherwise."""
    missing = np.array(to_rgba(MISSING_COLOUR))
    colours = np.tile(missing, (len(codes), 1))
    for i, code in enumerate(codes):
        value = float(values.get(code, 0.0))
        if value > 0:
            colours[i] = _CMAP(norm(value))
    return colours


def _draw_map(ax: Axes, values: pd.Series, norm: Normalize, china: str) -> tuple[str, ...]:
    """The countries (one `PolyCollection`), China on top, clipped to the map's outline."""
    countries = _projected_countries()
    outline = _outline()
    frame = PathPatch(outline, facecolor="white", edgecolor="0.55", linewidth=0.6, zorder=0)
    ax.add_patch(frame)
    codes = tuple(code for code in countries if not (china == "highlight" and code == "CHN"))
    collection = PolyCollection([], edgecolors="white", linewidths=0.25, zorder=1)
    collection.set_verts_and_codes(
        [countries[c][0] for c in codes], [countries[c][1] for c in codes]
    )
    collection.set_facecolor(_face_colours(codes, values, norm))
    collection.set_gid("countries")
    ax.add_collection(collection)
    collection.set_clip_path(frame)
    if china == "highlight" and "CHN" in countries:
        verts, path_codes = countries["CHN"]
        highlight = PolyCollection([], facecolors=CHINA_COLOUR, edgecolors="white", linewidths=0.3)
        highlight.set_verts_and_codes([verts], [path_codes])
        highlight.set_gid("china")
        highlight.set_zorder(2)
        ax.add_collection(highlight)
        x, y = equal_earth(np.array([100.0]), np.array([34.0]))
        label = {"color": "white", "fontsize": 7, "fontweight": "bold", "zorder": 3}
        ax.text(x[0], y[0], "China", ha="center", va="center", **label)
    xs, ys = outline.vertices[:, 0], outline.vertices[:, 1]
    ax.set_xlim(xs.min() - 0.02, xs.max() + 0.02)
    ax.set_ylim(ys.min() - 0.02, ys.max() + 0.02)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return codes


def _legend_and_note(
    fig: Figure, missing_label: str, china: bool, not_drawn: Sequence[str], what: str
) -> None:
    """The missing-colour and China legend entries, and the footnote of shapes not drawn."""
    handles = [Patch(facecolor=MISSING_COLOUR, edgecolor="0.6", label=missing_label)]
    if china:
        handles.append(Patch(facecolor=CHINA_COLOUR, edgecolor="0.6", label="China"))
    place = {"loc": "lower left", "bbox_to_anchor": (0.03, 0.135)}
    fig.legend(handles=handles, frameon=False, fontsize=8, **place)
    note = _footnote(not_drawn, what)
    if note:
        fig.text(0.01, 0.06, note, fontsize=7, color="0.3", ha="left", va="bottom", wrap=True)


def world_map(
    values: pd.Series,
    *,
    title: str | None = None,
    legend_label: str = "Contacts",
    simulated: bool = False,
    scale: str = "log",
    missing_label: str = "No contact",
    china: str = "highlight",
    counted: str = "contacts",
) -> WorldMap:
    """Figure 3: contacts per country on an Equal Earth world map.

    Parameters
    ----------
    values : pandas.Series
        Contacts (or any count) per country, indexed by ISO3 (e.g. the study's contacts
        of 2002-2017 counted with ``groupby("iso3").size()``).  Zero or absent means no
        contact.
    title : str, optional
        Drawn above the map.
    legend_label : str
        The colour bar's label.
    simulated : bool
        Mark the figure as SIMULATED (`style.mark_simulated`): say so for the demo.
    scale : {"log", "linear"}
        The colour scale of the positive values; zeros get the missing colour either way.
    missing_label : str
        The legend entry of countries without contacts.
    china : {"highlight", "data"}
        ``"highlight"`` draws China in `CHINA_COLOUR` with a label (it is the sender, not
        a partner); ``"data"`` colours it from ``values`` as any other country.
    counted : str
        What ``values`` count, for the footnote ("3 countries with contacts are too small").

    Returns
    -------
    WorldMap
        ``.figure`` (not saved: call ``.save(stem)``), ``.drawn`` and ``.not_drawn``
        (countries with positive values the 1:110m shapes do not have; also counted in the
        figure's footnote).
    """
    if china not in ("highlight", "data"):
        raise InputError(
            f"unknown china {china!r}", column="china", fix="use 'highlight' or 'data'"
        )
    clean = _check_values(values)
    positive = clean[(clean > 0) & ~((china == "highlight") & (clean.index == "CHN"))]
    norm = _norm(positive.to_numpy(), scale)
    on_map = set(_projected_countries())
    not_drawn = tuple(sorted(code for code in positive.index if code not in on_map))
    with style():
        fig = new_figure(7.0, 4.5)
        lines = textwrap.wrap(title or "", 84)  # a long title wraps instead of overflowing
        ax = fig.add_axes((0.0, 0.24, 1.0, 0.74 - 0.06 * len(lines) if lines else 0.74))
        drawn = _draw_map(ax, clean, norm, china)
        if lines:
            fig.suptitle("\n".join(lines), y=0.975, fontsize=11)
        _colourbar(fig, norm, legend_label)
        _legend_and_note(fig, missing_label, china == "highlight", not_drawn, counted)
        if simulated:
            mark_simulated(fig)
    return WorldMap(figure=fig, drawn=drawn, not_drawn=not_drawn)
