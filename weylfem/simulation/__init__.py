"""Running a simulation: the protocol every kind of run implements (`protocol`) and the
one loop that steps it and writes its series, snapshots, checkpoints and progress
(`loop`)."""
