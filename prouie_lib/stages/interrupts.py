"""SIGINT/SIGTERM during a run: stop resumably (after the current step, with a checkpoint, inside a training loop;
at once elsewhere), plus the test hook that kills the process right after a checkpoint."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from prouie_lib.stages.checkpoints import last_checkpoint

KILL_ENV = "PROUIE_KILL_AFTER_STEP"  # test hook: die right after the checkpoint of this step is saved


class Interrupted(KeyboardInterrupt):
    """The run stopped on SIGINT/SIGTERM; what was written is resumable (``detail`` says what was saved)."""

    def __init__(self, signum: int = signal.SIGINT, detail: str = "") -> None:
        self.signum, self.detail = signum, detail
        super().__init__(f"interrupted by {signal.Signals(signum).name}" + (f"; {detail}" if detail else ""))


_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_state: dict[str, Any] = {"installed": False, "requested": None, "training": 0}


def interrupt_requested() -> int | None:
    """The signal number received inside a training loop (which then stops at the next step end), else None."""
    return _state["requested"]


def _on_signal(signum, frame) -> None:
    if _state["requested"] is not None:  # the second signal: stop at once (an unfinished checkpoint is skipped)
        raise Interrupted(signum, "stopped at once on the second signal")
    _state["requested"] = signum
    if _state["training"]:
        from prouie_lib.distributed import env_is_main

        if not env_is_main():  # every process gets the launcher's signal; the main process says so once
            return
        print(f"\nprouie: {signal.Signals(signum).name} received: finishing the current step and saving a "
              "checkpoint (send it again to stop at once)", file=sys.stderr, flush=True)
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def graceful_interrupts() -> Iterator[None]:
    """Handle SIGINT/SIGTERM while a run is in progress.

    Inside a training loop (:func:`training_loop`) the signal only sets a flag: the step in progress and any
    checkpoint write finish, a checkpoint is saved and :class:`Interrupted` is raised after the loop. Elsewhere
    (loading, evaluation, between stages) :class:`Interrupted` is raised at once: every file that marks progress
    is written atomically, so the stage resumes where it was.
    """
    if _state["installed"] or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _on_signal) for sig in _SIGNALS}
    _state.update(installed=True, requested=None, training=0)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _state.update(installed=False, requested=None, training=0)


@contextlib.contextmanager
def training_loop(checkpoints: Path) -> Iterator[None]:
    """Mark a trainer loop: a signal now stops it after the step (with a checkpoint); raise Interrupted after."""
    _state["training"] += 1
    try:
        yield
    finally:
        _state["training"] -= 1
    signum = _state["requested"]
    if signum is not None:
        last = last_checkpoint(checkpoints, warn=False)
        raise Interrupted(signum, f"checkpoint saved: {last}" if last else "no checkpoint yet")


def _requested_anywhere() -> bool:
    """Whether any process received the signal; every process then takes it as its own, so that all of them stop
    after the same step (one alone stopping would leave the others waiting in the next step's all-reduce)."""
    from prouie_lib import distributed

    if distributed.any_rank(_state["requested"] is not None):
        if _state["requested"] is None:
            _state["requested"] = signal.SIGTERM  # a launcher forwards the same signal to every process anyway
        return True
    return False


class StopOnSignalCallback(TrainerCallback):
    """Ends training after the current step, with a checkpoint, once SIGINT/SIGTERM was received (by any process)."""

    def on_step_end(self, args, state, control, **kwargs):
        if _requested_anywhere():
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_save(self, args, state, control, **kwargs):
        if _requested_anywhere():  # the signal came during the checkpoint write: stop after it
            control.should_training_stop = True
        return control


class KillAfterStepCallback(TrainerCallback):
    """Test hook for resumability: with ``PROUIE_KILL_AFTER_STEP=N`` the process dies after saving step N."""

    def __init__(self) -> None:
        value = os.environ.get(KILL_ENV)
        self.kill_at = int(value) if value else None

    def on_save(self, args, state, control, **kwargs):
        if self.kill_at is not None and state.global_step >= self.kill_at:
            os._exit(3)
