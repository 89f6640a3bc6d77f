"""Figure 3, the world map: the TopoJSON decoder, the shipped shapes and the choropleth."""

from __future__ import annotations

import hashlib
import json
import socket
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.path import Path as MplPath
from matplotlib.ticker import LogLocator

import cpcstats
from cpcstats.countries import harmonise_countries, is_iso3
from cpcstats.errors import InputError
from cpcstats.reporting.style import SIMULATED_MARK
from cpcstats.reporting.world_map import (
    ATLAS_FILE,
    ATLAS_SHA256,
    CHINA_COLOUR,
    MISSING_COLOUR,
    NO_ID_SHAPES,
    atlas_text,
    country_shapes,
    decode_topojson,
    equal_earth,
    world_map,
)

ATLAS = resources.files("cpcstats.reference") / "world_atlas"


# --------------------------------------------------------------------------- the decoder


def _tiny_topology() -> dict:
    """Two arcs of a unit square in quantized, delta-encoded form (worked out by hand).

    scale (0.5, 0.25), translate (10, 20): arc 0 is the quantized points (0,0) (2,0) (2,4)
    = (10,20) (11,20) (11,21); arc 1 is (2,4) (0,4) (0,0) = (11,21) (10,21) (10,20).
    """
    return {
        "type": "Topology",
        "transform": {"scale": [0.5, 0.25], "translate": [10, 20]},
        "arcs": [[[0, 0], [2, 0], [0, 4]], [[2, 4], [-2, 0], [0, -4]]],
        "objects": {
            "countries": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "arcs": [[0, 1]], "id": "001", "properties": {"name": "A"}},
                    {"type": "MultiPolygon", "arcs": [[[-2, -1]]], "id": "-99"},
                    {"type": "Point", "coordinates": [0, 0], "id": "003"},
                ],
            }
        },
    }


def test_decoder_undoes_quantization_and_delta_encoding() -> None:
    shapes = decode_topojson(_tiny_topology())
    assert [s.id for s in shapes] == ["001", None]  # "-99" is no id; the point has no area
    (ring,) = shapes[0].polygons[0]
    square = [[10, 20], [11, 20], [11, 21], [10, 21], [10, 20]]
    np.testing.assert_allclose(ring, square)
    assert shapes[0].name == "A" and shapes[1].name == ""


def test_decoder_reverses_negative_arc_indices() -> None:
    (ring,) = decode_topojson(_tiny_topology())[1].polygons[0]  # arcs ~1 then ~0
    np.testing.assert_allclose(ring, [[10, 20], [10, 21], [11, 21], [11, 20], [10, 20]])


def test_decoder_reads_unquantized_arcs_as_absolute() -> None:
    topology = _tiny_topology()
    del topology["transform"]
    topology["arcs"] = [[[0, 0], [3, 0], [3, 2]], [[3, 2], [0, 2], [0, 0]]]
    (ring,) = decode_topojson(topology)[0].polygons[0]
    np.testing.assert_allclose(ring, [[0, 0], [3, 0], [3, 2], [0, 2], [0, 0]])


def test_decoder_rejects_what_is_not_a_topology() -> None:
    with pytest.raises(InputError, match="not a TopoJSON topology"):
        decode_topojson({"type": "FeatureCollection", "features": []})
    with pytest.raises(InputError, match="no object 'land'"):
        decode_topojson(_tiny_topology(), "land")


# --------------------------------------------------------------------------- the shipped shapes


def test_the_shipped_file_is_the_documented_one() -> None:
    raw = (ATLAS / ATLAS_FILE).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == ATLAS_SHA256
    source = (ATLAS / "SOURCE.md").read_text(encoding="utf-8")
    assert ATLAS_SHA256 in source and "world-atlas 2.0.2" in source
    assert "Michael Bostock" in (ATLAS / "LICENSE").read_text(encoding="utf-8")
    assert atlas_text() == raw.decode("utf-8")


def test_real_file_decodes_to_177_closed_rings() -> None:
    shapes = decode_topojson(json.loads(atlas_text()))
    assert len(shapes) == 177
    rings = [ring for shape in shapes for poly in shape.polygons for ring in poly]
    assert all(len(r) >= 4 and np.array_equal(r[0], r[-1]) for r in rings)
    lon = np.concatenate([r[:, 0] for r in rings])
    lat = np.concatenate([r[:, 1] for r in rings])
    assert lon.min() >= -180 and lon.max() <= 180 and lat.min() >= -90 and lat.max() <= 84


def _bbox(shape_id: str) -> tuple[float, float, float, float]:
    (shape,) = [s for s in country_shapes() if s.id == shape_id]
    points = np.concatenate([ring for poly in shape.polygons for ring in poly])
    return points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()


@pytest.mark.parametrize(
    ("shape_id", "outer", "inner"),
    [
        # (lon_min, lat_min, lon_max, lat_max): inner must lie inside the box, the box in outer
        ("250", (-55, 1, 10, 52), (-52, 4, 7, 50)),  # France with French Guiana
        ("840", (-180, 18, -66, 72), (-160, 20, -68, 70)),  # USA with Alaska and Hawaii
        ("156", (72, 17, 136, 55), (75, 20, 133, 52)),  # China with Hainan
    ],
)
def test_country_bounding_boxes_are_plausible(shape_id: str, outer: tuple, inner: tuple) -> None:
    x0, y0, x1, y1 = _bbox(shape_id)
    assert outer[0] <= x0 <= inner[0] and outer[1] <= y0 <= inner[1]
    assert inner[2] <= x1 <= outer[2] and inner[3] <= y1 <= outer[3]


def test_every_shape_gets_a_known_iso3_and_the_id_less_ones_follow_the_rule() -> None:
    shapes = country_shapes()
    assert all(s.iso3 is not None and is_iso3(s.iso3) for s in shapes)
    by_name = {s.name: s.iso3 for s in shapes if s.id is None}
    assert by_name == NO_ID_SHAPES
    assert {"CYP", "SOM"} <= {s.iso3 for s in shapes if s.id is not None}  # merged, not new
    codes = [s.iso3 for s in shapes if s.id is not None]
    assert len(codes) == len(set(codes))
    assert {s.id: s.iso3 for s in shapes}["156"] == "CHN"


def test_equal_earth_matches_the_published_extent() -> None:
    # Šavrič et al. (2018): the map is 2.7066 wide per half at the equator and 1.3175 high
    # per half on the unit sphere, and the projection is symmetric.
    x, y = equal_earth(np.array([180.0, 0.0, -90.0]), np.array([0.0, 90.0, -45.0]))
    assert x[0] == pytest.approx(2.7066, abs=1e-3) and y[1] == pytest.approx(1.3173, abs=1e-3)
    xr, yr = equal_earth(np.array([90.0]), np.array([45.0]))
    assert (x[2], y[2]) == pytest.approx((-xr[0], -yr[0]))


# --------------------------------------------------------------------------- the map


@pytest.fixture(scope="module")
def demo_values() -> pd.Series:
    contacts = cpcstats.load_study("demo").contacts
    window = contacts[(contacts["year"] >= 2002) & (contacts["year"] <= 2017)]
    return window.groupby("iso3").size()


def _collection(result, gid: str):  # type: ignore[no-untyped-def]
    (ax,) = [a for a in result.figure.axes if any(c.get_gid() == gid for c in a.collections)]
    (coll,) = [c for c in ax.collections if c.get_gid() == gid]
    return coll


def _luminance(rgba: np.ndarray) -> np.ndarray:
    return rgba[:, :3] @ np.array([0.2126, 0.7152, 0.0722])


@pytest.mark.parametrize("scale", ["log", "linear"])
def test_more_contacts_is_never_lighter(demo_values: pd.Series, scale: str) -> None:
    result = world_map(demo_values, simulated=True, scale=scale)
    coll = _collection(result, "countries")
    colours = coll.get_facecolor()
    assert len(colours) == len(result.drawn) == len(coll.get_paths())
    values = np.array([float(demo_values.get(code, 0)) for code in result.drawn])
    lum = _luminance(colours)
    positive = values > 0
    order = np.argsort(values[positive], kind="mergesort")
    assert np.all(np.diff(lum[positive][order]) <= 1e-9)
    assert len(np.unique(values[positive])) > 10  # the check compares many levels
    missing = np.array(to_rgba(MISSING_COLOUR))
    assert np.allclose(colours[~positive], missing)
    assert not np.any(np.all(np.isclose(colours[positive], missing), axis=1))


def test_zero_contacts_get_the_missing_colour_not_log_zero(demo_values: pd.Series) -> None:
    values = demo_values.copy()
    values[["BRA", "IND"]] = 0
    result = world_map(values)
    colours = dict(zip(result.drawn, _collection(result, "countries").get_facecolor(), strict=True))
    assert np.allclose(colours["BRA"], to_rgba(MISSING_COLOUR))
    assert np.allclose(colours["IND"], to_rgba(MISSING_COLOUR))
    assert not np.allclose(colours["USA"], to_rgba(MISSING_COLOUR))


def test_china_is_highlighted_and_labelled(demo_values: pd.Series) -> None:
    result = world_map(demo_values)
    assert "CHN" not in result.drawn
    china = _collection(result, "china")
    assert np.allclose(china.get_facecolor(), to_rgba(CHINA_COLOUR))
    texts = [t.get_text() for ax in result.figure.axes for t in ax.texts]
    assert "China" in texts
    as_data = world_map(demo_values, china="data")
    assert "CHN" in as_data.drawn


def _independent_map_codes() -> set[str]:
    """ISO3 codes of the drawable shapes from their *names* (coco's regexes), not their ids.

    coco reads every 110m name but two abbreviations, given here by hand.
    """
    geometries = json.loads(atlas_text())["objects"]["countries"]["geometries"]
    names = pd.Series([g["properties"]["name"] for g in geometries])
    by_hand = {"Fr. S. Antarctic Lands": "ATF", "S. Sudan": "SSD"}
    codes, _report = harmonise_countries(names, overrides=by_hand, strict=True)
    return set(codes) - {"ATA"}


def test_ids_and_names_give_the_same_countries() -> None:
    assert {s.iso3 for s in country_shapes()} - {"ATA"} == _independent_map_codes()


def test_countries_off_the_map_are_returned_and_footnoted(demo_values: pd.Series) -> None:
    result = world_map(demo_values, simulated=True)
    expected = set(demo_values[demo_values > 0].index) - _independent_map_codes()
    assert set(result.not_drawn) == expected and expected  # small island states exist
    assert set(result.drawn) | {"CHN"} == _independent_map_codes()
    texts = [t.get_text() for t in result.figure.texts]
    assert any(t.startswith(f"{len(expected)} countries with contacts") for t in texts)
    assert SIMULATED_MARK in texts


def test_no_mark_and_no_footnote_when_not_asked() -> None:
    result = world_map(pd.Series({"FRA": 3, "BRA": 1}))
    assert result.not_drawn == ()
    texts = [t.get_text() for t in result.figure.texts]
    assert SIMULATED_MARK not in texts and not any("too small" in t for t in texts)


def test_rings_across_the_antimeridian_do_not_smear() -> None:
    result = world_map(pd.Series({"FJI": 4, "RUS": 40}))
    coll = _collection(result, "countries")
    paths = dict(zip(result.drawn, coll.get_paths(), strict=True))
    for path in coll.get_paths():
        starts = np.flatnonzero(path.codes == MplPath.MOVETO)
        for ring in np.split(path.vertices, starts[1:]):
            assert np.abs(np.diff(ring[:, 0])).max() < 1.0  # the map is 5.4 wide
    for code in ("FJI", "RUS"):  # rings east and west of the map's centre: both edges
        path = paths[code]
        rings = np.split(path.vertices, np.flatnonzero(path.codes == MplPath.MOVETO)[1:])
        assert {bool(np.sign(r[:, 0].mean()) > 0) for r in rings} == {True, False}
    assert coll.get_clip_path() is not None


def test_log_colour_bar_ticks_come_from_the_locator(demo_values: pd.Series) -> None:
    result = world_map(demo_values)
    (bar,) = [a for a in result.figure.axes if a.get_title() == "Contacts"]
    assert isinstance(bar.xaxis.get_major_locator(), LogLocator)
    low, high = sorted(bar.get_xlim())
    ticks = [t for t in bar.get_xticks() if low <= t <= high]
    mantissas = {round(t / 10 ** np.floor(np.log10(t)), 6) for t in ticks}
    assert len(ticks) >= 4 and mantissas <= {1.0, 2.0, 5.0}
    assert min(ticks) >= demo_values.min() and max(ticks) <= demo_values.max()


def test_output_is_byte_identical_and_needs_no_network(
    demo_values: pd.Series, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def no_network(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the world map must not use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    first = world_map(demo_values, title="Contacts", simulated=True).save(tmp_path / "a")
    second = world_map(demo_values, title="Contacts", simulated=True).save(tmp_path / "b")
    assert [p.suffix for p in first] == [".pdf", ".png"]
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes()


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ({"FRA": 1}, {}, "pandas Series"),
        (pd.Series({"FRA": -1}), {}, "finite and >= 0"),
        (pd.Series({"FRA": 1, "fra": 2}), {}, "twice"),
        (pd.Series({"FRA": 1, "France": 2}), {}, "not so for \\['FRANCE'\\]"),
        (pd.Series({"FRA": 1}), {"scale": "sqrt"}, "unknown scale"),
        (pd.Series({"FRA": 1}), {"china": "hide"}, "unknown china"),
    ],
)
def test_bad_input_is_an_input_error(values, kwargs, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=message):
        world_map(values, **kwargs)


def test_footnote_says_what_is_counted_and_a_long_title_wraps() -> None:
    title = "Engagements per country, 2003-2018: " + "a long study label " * 6
    result = world_map(
        pd.Series({"SGP": 2, "MLT": 1, "FRA": 4}), title=title, counted="engagements"
    )
    assert result.not_drawn == ("MLT", "SGP")
    texts = [t.get_text() for t in result.figure.texts]
    assert (
        "2 countries with engagements are too small to draw at this scale: Malta, Singapore."
        in texts
    )
    heading = result.figure.get_suptitle()
    assert "\n" in heading and heading.replace("\n", " ") == title.strip()
