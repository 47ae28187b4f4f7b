"""Signals under MPI are held until every rank agrees on them (`weylfem.interrupts`).

A fake two-rank communicator stands in for MPI, so that the order of events (a signal
inside a `deferred` block, the ranks' agreement) is set exactly rather than by timing."""

from __future__ import annotations

import os
import signal

import pytest

from weylfem import interrupts


class TwoRanks:
    """A communicator of two ranks whose other rank holds `other` (0: no signal)."""

    size = 2

    def __init__(self, other: int = 0):
        self.other = other

    def allreduce(self, value, op=None):
        return max(value, self.other)


@pytest.fixture
def holding(monkeypatch):
    """`install` + `hold_for_agreement`, undone afterwards."""
    previous = {signum: signal.getsignal(signum) for signum in interrupts.SIGNALS}
    monkeypatch.setattr(interrupts, "_holding", False)
    monkeypatch.setattr(interrupts, "_held", None)
    monkeypatch.setattr(interrupts, "_pending", None)
    monkeypatch.setattr(interrupts, "HOLD_S", 30.0)  # the fallback never fires in a test
    interrupts.install()
    interrupts.hold_for_agreement()
    yield
    if interrupts._release is not None:
        interrupts._release.cancel()
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@pytest.mark.serial
def test_a_signal_inside_a_deferred_block_waits_for_the_agreement(holding):
    """Rank 0 writing a checkpoint (a deferred block) when SIGTERM comes must not unwind
    alone at the block's end: the other rank is waiting for it in a collective call."""
    with interrupts.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
    # the block ended without raising; the agreement raises it on every rank
    with pytest.raises(interrupts.Interrupted) as raised:
        interrupts.agree(TwoRanks())
    assert raised.value.signum == signal.SIGTERM


@pytest.mark.serial
def test_a_signal_held_by_another_rank_is_raised_here(holding):
    interrupts.agree(TwoRanks())  # no signal anywhere: nothing happens
    with pytest.raises(interrupts.Interrupted) as raised:
        interrupts.agree(TwoRanks(other=signal.SIGINT))
    assert raised.value.exit_status == 128 + signal.SIGINT


@pytest.mark.serial
def test_without_agreement_a_deferred_signal_is_raised_at_the_block_end(monkeypatch):
    previous = {signum: signal.getsignal(signum) for signum in interrupts.SIGNALS}
    monkeypatch.setattr(interrupts, "_holding", False)
    monkeypatch.setattr(interrupts, "_pending", None)
    interrupts.install()
    try:
        with pytest.raises(interrupts.Interrupted):
            with interrupts.deferred():
                os.kill(os.getpid(), signal.SIGINT)
                finished_block = True
        assert finished_block
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
