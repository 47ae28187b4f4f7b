# weylfem: every target installs first through the one set-up script.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
MPIEXEC := mpirun
NP := 2
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
export OMPI_MCA_rmaps_base_oversubscribe := 1
# One thread per MPI rank: BLAS threads would fight the ranks for the two cores.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1

# Debian releases whose FEniCSx `make test-stacks` tests in debootstrap roots (scripts/test-stack.sh):
# sid has DOLFINx 0.11 (PETSc 3.25, Python 3.14), trixie 0.9 (PETSc 3.22); this machine's own
# stack is whatever `make test` finds (bookworm: 0.5.2).
STACKS := sid trixie

.PHONY: install demo test test-serial test-mpi lint bench validate clean test-stacks $(STACKS:%=test-%)

install:
	bash scripts/install.sh

demo: install
	$(VENV)/bin/weylfem run --out weylfem-out

test: install lint test-serial test-mpi

lint:
	$(VENV)/bin/ruff check weylfem tests demos bench

# A failing assertion on one rank can leave the other waiting in a collective call:
# the time limit turns such a hang into a failure.
test-serial:
	timeout 1500 $(PY) -m pytest -m "not slow" -q --color=no

test-mpi:
	timeout 1500 $(MPIEXEC) -n $(NP) $(PY) -m pytest -m "mpi and not slow" -q --color=no -p no:cacheprovider

# `make test` of a clean clone of HEAD inside a fresh Debian root of each release in STACKS.
test-stacks: $(STACKS:%=test-%)

$(STACKS:%=test-%): test-%:
	bash scripts/test-stack.sh $* test

# The benchmark-only environment of the peer magnum.np (.venv-bench) is made here, never by
# install or test.  BENCH_ARGS="--only sp4" runs standard problem 4 alone (--quick: a smoke run).
bench:
	bash scripts/install.sh --bench
	$(PY) bench/run.py $(BENCH_ARGS)

validate: install
	$(PY) -m pytest -m slow -q

clean:
	rm -rf weylfem-out .pytest_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
