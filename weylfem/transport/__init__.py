"""Charge (and, later, valley) transport."""

from weylfem.transport.problem import ChargeTransportProblem, TransportSolution

__all__ = ["ChargeTransportProblem", "TransportSolution"]
