"""What a run writes, one concern per module:

- `staging`: output directories that appear whole or not at all, atomic file replacement,
  results.json;
- `projections`: the finite-element fields that go into files (cellwise and P1 copies);
- `writers`: XDMF field files (collective) and CSV series;
- `plots`: matplotlib figures of a run's numbers;
- `pictures`: off-screen pyvista pictures of fields and meshes.
"""
