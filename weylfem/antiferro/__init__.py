"""Sublattice micromagnetics of antiferromagnets (docs/theory.md §4): collinear two-sublattice
and triangular (Mn3Sn-type) three-sublattice order, each sublattice with its own LLG."""
