"""Finite-element fields for output: cellwise (DG0) projections of UFL expressions and
P1 copies of potentials, named for the files they go into."""

from __future__ import annotations

from dolfinx import fem

from weylfem import compat


def cellwise_vector(expression, mesh, name: str) -> fem.Function:
    """Interpolate a vector UFL expression into a DG0 field (value at cell midpoints)."""
    space = compat.function_space(mesh, "DG", 0, expression.ufl_shape)
    field = fem.Function(space, name=name)
    field.interpolate(fem.Expression(expression, compat.interpolation_points(space)))
    return field


def cellwise_scalar(expression, mesh, name: str) -> fem.Function:
    """Interpolate a scalar UFL expression into a DG0 field (value at cell midpoints)."""
    space = compat.function_space(mesh, "DG", 0)
    field = fem.Function(space, name=name)
    field.interpolate(fem.Expression(expression, compat.interpolation_points(space)))
    return field


def nodal(function: fem.Function, name: str) -> fem.Function:
    """The function in P1 (what XDMF and VTK plotting take), interpolated if needed."""
    mesh = function.function_space.mesh
    p1 = compat.function_space(mesh, "Lagrange", 1)
    if function.function_space.ufl_element() == p1.ufl_element():
        function.name = name
        return function
    result = fem.Function(p1, name=name)
    result.interpolate(function)
    return result
