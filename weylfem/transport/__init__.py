"""Charge and valley transport: terms, coefficients, contacts and the problem."""

from weylfem.transport.problem import TransportProblem, TransportSolution

__all__ = ["TransportProblem", "TransportSolution"]
