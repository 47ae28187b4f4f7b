"""Geometry builders: named groups, analytic measures, ring convergence, validation."""

import math
from pathlib import Path

import numpy as np
import pytest

from weylfem.errors import ConfigError
from weylfem.geometry import (
    BarGeometry,
    FileGeometry,
    Refinement,
    build_device_mesh,
    measure_groups,
)
from weylfem.geometry.hall_bar import HallBarGeometry
from weylfem.geometry.nonlocal_strip import NonlocalStripGeometry
from weylfem.geometry.ring import RingGeometry
from weylfem.geometry.stack import StackGeometry
from weylfem.schema import from_table

pytestmark = pytest.mark.mpi

UM = 1e-6
MESHES = Path(__file__).resolve().parents[1] / "meshes"


def measured(geometry, comm) -> dict[str, float]:
    """Group measures in length_unit**d (regions) and length_unit**(d-1) (facets), after
    checking that the mesh has exactly the geometry's groups, numbered in order."""
    device_mesh = build_device_mesh(geometry, comm)
    assert device_mesh.cell_groups == {n: i for i, n in enumerate(geometry.cell_groups(), 1)}
    assert device_mesh.facet_groups == {n: i for i, n in enumerate(geometry.facet_groups(), 1)}
    d = geometry.dimension
    sizes = measure_groups(device_mesh)
    return {n: v / UM ** (d if n in device_mesh.cell_groups else d - 1) for n, v in sizes.items()}


def extruded(areas: dict[str, float], lengths: dict[str, float], dimension: int, t: float):
    """Expected measures of a 2D shape, or of its extrusion by `t` (the flat faces are walls)."""
    if dimension == 2:
        return {**areas, **lengths}
    faces = {name: length * t for name, length in lengths.items()}
    faces["walls"] += 2 * sum(areas.values())
    return {**{name: area * t for name, area in areas.items()}, **faces}


def assert_measures(sizes: dict[str, float], expected: dict[str, float], rel: float) -> None:
    assert sizes.keys() == expected.keys()
    for name, value in expected.items():
        assert sizes[name] == pytest.approx(value, rel=rel), name


@pytest.mark.parametrize("dimension", [2, 3])
@pytest.mark.parametrize("contact_width", [None, 1.0])
def test_bar(dimension, contact_width, comm):
    geometry = BarGeometry(
        dimension=dimension, length=6.0, width=1.5, thickness=0.5, contact_width=contact_width
    )
    contact = 1.5 if contact_width is None else contact_width
    lengths = {"source": contact, "drain": contact, "walls": 2 * 6.0 + 2 * (1.5 - contact)}
    expected = extruded({"channel": 6.0 * 1.5}, lengths, dimension, 0.5)
    assert_measures(measured(geometry, comm), expected, rel=1e-10)
    assert expected["source"] == pytest.approx(geometry.contact_area())


@pytest.mark.parametrize("dimension", [2, 3])
@pytest.mark.parametrize("positions", [None, (1.5, 4.0, 6.5)])
def test_hall_bar(dimension, positions, comm):
    geometry = HallBarGeometry(
        dimension=dimension,
        length=8.0,
        width=1.5,
        thickness=0.4,
        probe_pairs=3,
        probe_positions=positions,
        arm_width=0.6,
        arm_length=0.8,
    )
    arms = 6 * 0.6 * 0.8
    lengths = {"source": 1.5, "drain": 1.5}
    lengths |= {name: 0.6 for name in geometry.probe_names()}
    lengths["walls"] = 2 * 8.0 + 6 * (2 * 0.8) - 6 * 0.6  # bar sides + arm sides - arm roots
    expected = extruded({"channel": 8.0 * 1.5 + arms}, lengths, dimension, 0.4)
    assert_measures(measured(geometry, comm), expected, rel=1e-10)


@pytest.mark.parametrize("dimension", [2, 3])
def test_nonlocal_strip(dimension, comm):
    geometry = NonlocalStripGeometry(
        dimension=dimension,
        length=12.0,
        width=1.0,
        thickness=0.3,
        injector_position=1.5,
        detector_distances=(2.0, 5.0, -1.0),
        contact_length=0.4,
    )
    contacts = geometry.facet_groups()[:-1]
    assert contacts[-2:] == ("detector_3_bottom", "detector_3_top")
    lengths = {name: 0.4 for name in contacts}
    lengths["walls"] = 2 * 12.0 + 2 * 1.0 - 8 * 0.4
    expected = extruded({"channel": 12.0 * 1.0}, lengths, dimension, 0.3)
    assert_measures(measured(geometry, comm), expected, rel=1e-10)


@pytest.mark.parametrize("dimension", [2, 3])
@pytest.mark.parametrize("contacts", ["ends", "top"])
def test_stack(dimension, contacts, comm):
    length, width, film, substrate = 6.0, 1.5, 0.25, 0.5
    geometry = StackGeometry(
        dimension=dimension,
        length=length,
        width=width,
        film_thickness=film,
        substrate_thickness=substrate,
        contacts=contacts,
        contact_length=1.0 if contacts == "top" else None,
        mesh_size=0.25,
    )
    depth = width if dimension == 3 else 1.0  # extent along y in 3D
    contact = (film if contacts == "ends" else 1.0) * depth
    if dimension == 3:
        surface = 2 * (length * width + (length + width) * (film + substrate))
    else:
        surface = 2 * (length + film + substrate)
    expected = {
        "film": length * film * depth,
        "substrate": length * substrate * depth,
        "source": contact,
        "drain": contact,
        "interface": length * depth,
        "walls": surface - 2 * contact,
    }
    assert_measures(measured(geometry, comm), expected, rel=1e-10)


@pytest.mark.parametrize("dimension", [2, 3])
def test_ring_groups_and_measures(dimension, comm):
    r1, r2, t = 1.0, 2.0, 0.5
    geometry = RingGeometry(
        dimension=dimension, inner_radius=r1, outer_radius=r2, thickness=t, mesh_size=0.2
    )
    assert ("walls" in geometry.facet_groups()) == (dimension == 3)
    lengths = {"inner": 2 * math.pi * r1, "outer": 2 * math.pi * r2}
    if dimension == 3:
        lengths["walls"] = 0.0  # only the flat faces
    expected = extruded({"channel": math.pi * (r2**2 - r1**2)}, lengths, dimension, t)
    assert_measures(measured(geometry, comm), expected, rel=1e-2)


@pytest.mark.parametrize("dimension", [2, 3])
def test_notched_ring(dimension, comm):
    r2, depth, width, t = 3.0, 0.6, 0.4, 0.5
    geometry = RingGeometry(
        dimension=dimension,
        inner_radius=1.0,
        outer_radius=r2,
        thickness=t,
        notch_depth=depth,
        notch_width=width,
        mesh_size=0.2,
    )
    assert geometry.facet_groups() == ("inner", "outer", "walls")
    corner = math.sqrt(r2**2 - width**2 / 4)  # x where the notch sides meet the circle
    half_angle = math.asin(width / (2 * r2))
    notch = width / 2 * corner + r2**2 * half_angle - width * (r2 - depth)
    walls = width + 2 * (corner - (r2 - depth))  # the notch: straight, meshed exactly
    sizes = measured(geometry, comm)
    lengths = {"inner": 2 * math.pi, "outer": 2 * r2 * (math.pi - half_angle), "walls": walls}
    expected = extruded({"channel": math.pi * (r2**2 - 1.0) - notch}, lengths, dimension, t)
    assert_measures(sizes, expected, rel=1e-2)
    if dimension == 2:
        assert sizes["walls"] == pytest.approx(walls, rel=1e-10)


@pytest.mark.parametrize(("dimension", "sizes"), [(2, (0.4, 0.2, 0.1)), (3, (0.6, 0.3, 0.15))])
def test_ring_convergence(dimension, sizes, comm):
    """The P1 (polygonal) ring's area and circle lengths converge at second order.

    With one element size on both circles the polygon deficits of the outer disk and of
    the hole are both pi h^2/6 to leading order and cancel in the area; halving the size
    on the inner circle (a refinement) leaves a clean pi h^2/8."""
    r1, r2, thickness = 1.0, 2.0, 1.0
    exact = {
        "channel": math.pi * (r2**2 - r1**2),
        "inner": 2 * math.pi * r1,
        "outer": 2 * math.pi * r2,
    }
    if dimension == 3:
        exact = {name: value * thickness for name, value in exact.items()}
    errors = {name: [] for name in exact}
    for h in sizes:
        geometry = RingGeometry(
            dimension=dimension,
            inner_radius=r1,
            outer_radius=r2,
            thickness=thickness,
            mesh_size=h,
            refine=(Refinement(groups=("inner",), size=h / 2),),
        )
        measures = measured(geometry, comm)
        for name, value in exact.items():
            errors[name].append(abs(measures[name] - value) / value)
    for name, errs in errors.items():
        rate = np.polyfit(np.log(sizes), np.log(errs), 1)[0]
        pairwise = [math.log(a / b) / math.log(2) for a, b in zip(errs, errs[1:], strict=False)]
        if comm.rank == 0:
            print(f"{dimension}D ring {name}: h={sizes} relative errors", end=" ")
            print(", ".join(f"{e:.3e}" for e in errs), end="; ")
            print("rates", ", ".join(f"{r:.2f}" for r in pairwise), f"fitted {rate:.2f}")
        assert rate >= 1.8, (name, errs)


@pytest.mark.parametrize(
    ("cls", "rel"),
    [
        (HallBarGeometry, 1e-10),
        (NonlocalStripGeometry, 1e-10),
        (StackGeometry, 1e-10),
        (RingGeometry, 1e-3),
    ],
)
def test_geo_sources_match_builders(cls, rel, comm):
    """meshes/KIND.geo makes the builder's default 3D device: same groups, same measures."""
    builder = cls()
    source = FileGeometry(path=str(MESHES / f"{builder.kind}.geo"), mesh_size=builder.mesh_size)
    assert source.cell_groups() == builder.cell_groups()
    assert source.facet_groups() == builder.facet_groups()
    assert_measures(measured(source, comm), measured(builder, comm), rel=rel)


@pytest.mark.parametrize(
    "cls", [HallBarGeometry, NonlocalStripGeometry, StackGeometry, RingGeometry]
)
def test_defaults_are_valid(cls):
    geometry = from_table(cls, {}, "t.toml", "geometry")
    assert list(geometry.validate()) == []


@pytest.mark.parametrize(
    ("cls", "table", "key", "fragment"),
    [
        (HallBarGeometry, {"probe_positions": [3.0]}, "probe_positions", "expected 2 positions"),
        (HallBarGeometry, {"probe_positions": [0.1, 5.0]}, "probe_positions", "inside the bar"),
        (HallBarGeometry, {"probe_positions": [4.0, 4.3]}, "probe_positions", "apart"),
        (HallBarGeometry, {"length": 2.0, "probe_pairs": 3}, "arm_width", "apart"),
        (HallBarGeometry, {"probe_pairs": 0}, "probe_pairs", "positive"),
        (NonlocalStripGeometry, {"injector_position": 0.1}, "injector_position", "inside"),
        (
            NonlocalStripGeometry,
            {"detector_distances": [4.0, 30.0]},
            "detector_distances",
            "inside",
        ),
        (NonlocalStripGeometry, {"detector_distances": [0.3]}, "detector_distances", "apart"),
        (StackGeometry, {"contacts": "top"}, "contact_length", "expected a number"),
        (StackGeometry, {"contact_length": 1.0}, "contact_length", "expected no contact_length"),
        (StackGeometry, {"contacts": "top", "contact_length": 5.0}, "contact_length", "length/2"),
        (RingGeometry, {"inner_radius": 3.0, "outer_radius": 2.0}, "inner_radius", "less than"),
        (RingGeometry, {"notch_depth": 2.5}, "notch_depth", "outer_radius - inner_radius"),
        (RingGeometry, {"notch_depth": 0.005}, "notch_depth", "side walls"),
        (RingGeometry, {"notch_depth": -1.0}, "notch_depth", ">= 0"),
        (
            RingGeometry,
            {"dimension": 2, "refine": [{"groups": ["walls"], "size": 0.1}]},
            "refine[0].groups",
            "inner, outer",
        ),
    ],
)
def test_inconsistent_dimensions(cls, table, key, fragment):
    with pytest.raises(ConfigError) as info:
        from_table(cls, table, "t.toml", "geometry")
    message = str(info.value)
    assert message.startswith(f"t.toml: geometry.{key}: "), message
    assert fragment in message, message
