"""Many processes, one run: who owns the run directory, how work is shared, how errors reach every rank.

Under a launcher (``torchrun``, ``accelerate launch``) every process runs the same pipeline. The kit is a citizen
of accelerate's process state (:class:`accelerate.PartialState`, the object trl's trainers use too):

- **One owner.** The global main process alone deletes, creates and writes files of the run directory; the
  others wait at a barrier (:func:`on_main`). What the main process computes there (or the error it raised) is
  broadcast, so every rank goes on with the same value or stops with the same error — no rank waits forever.
- **Sharded generation.** :func:`shard_map` splits items between the processes
  (``split_between_processes``), applies a function to each process's share and gathers the results on every
  rank in the original order, each item once.
- **Agreed stops.** :func:`any_rank` tells every rank whether any rank saw a condition (e.g. a signal), so all
  ranks stop training after the same step.

One process (no launcher) is the degenerate case: every call is a plain function call and nothing is
initialized beyond accelerate's single-process state. On CPU the state is created with ``cpu=True``, so torchrun's
processes talk over gloo (accelerate only starts a CPU process group when asked for CPU).
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def launched() -> bool:
    """Whether this process was started by a multi-process launcher (``WORLD_SIZE`` > 1), without importing torch."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def env_is_main() -> bool:
    """Whether this is the global main process, from the launcher's environment alone (cheap: for output only)."""
    return int(os.environ.get("RANK", "0")) == 0


def state():
    """accelerate's shared process state, created on first use (``cpu=True`` without a GPU: gloo under torchrun)."""
    import torch
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def world_size() -> int:
    return state().num_processes if launched() else 1


def is_main() -> bool:
    return state().is_main_process if launched() else True


class RankError(RuntimeError):
    """An error raised on the main process inside :func:`on_main` that could not be sent as itself."""


def on_main(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Run ``fn`` on the main process only and hand its result — or its exception — to every process.

    The other processes wait (a broadcast is a barrier). An exception raised on the main process is raised on every
    process, so that a user error stops all of them with the same one line instead of leaving the others waiting.
    """
    if not launched():
        return fn(*args, **kwargs)
    from accelerate.utils import broadcast_object_list

    message: list[Any] = [None]
    if is_main():
        try:
            message[0] = ("ok", fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - re-raised below on every rank
            message[0] = ("error", _picklable(err))
    broadcast_object_list(message, from_process=0)
    status, value = message[0]
    if status == "error":
        raise value
    return value


def save_on_main(model, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """:func:`on_main` for writing a model's weights: every process takes part in gathering them
    (:func:`full_weights`), the main process alone writes."""
    with full_weights(model):
        return on_main(fn, *args, **kwargs)


def _picklable(err: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:  # noqa: BLE001 - some exceptions do not survive pickling; keep their message
        return RankError(f"{type(err).__name__}: {err}")


def shard_map(items: Sequence[T], fn: Callable[[list[T]], list[R]]) -> list[R]:
    """``fn`` over ``items`` split between the processes; every process gets all results in the order of ``items``.

    ``fn`` takes a list of items and returns one result per item. With one process it is called once on everything.
    """
    if not launched():
        return list(fn(list(items)))
    from accelerate.utils import gather_object

    indices = list(range(len(items)))
    with state().split_between_processes(indices) as mine:
        mine = list(mine)
        results = list(fn([items[i] for i in mine])) if mine else []
    if len(results) != len(mine):
        raise ValueError(f"shard_map: {len(results)} results for {len(mine)} items")
    gathered = gather_object([(i, r) for i, r in zip(mine, results, strict=True)])
    ordered: dict[int, R] = {}
    for i, result in gathered:
        ordered.setdefault(i, result)  # split_between_processes never repeats an index; keep each once anyway
    if sorted(ordered) != indices:
        raise RuntimeError(f"shard_map: gathered {len(ordered)} of {len(items)} items")
    return [ordered[i] for i in indices]


def gather_lists(local: list[T]) -> list[T]:
    """Every process's list, concatenated in rank order, on every process (one process: the list itself)."""
    if not launched():
        return list(local)
    from accelerate.utils import gather_object

    return list(gather_object(list(local)))


def any_rank(flag: bool) -> bool:
    """True on every process when ``flag`` is true on any process (a max all-reduce; one process: ``flag``)."""
    if not launched():
        return bool(flag)
    import torch
    import torch.distributed as dist

    value = torch.tensor([1 if flag else 0], dtype=torch.int64, device=state().device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


@contextlib.contextmanager
def main_first() -> Iterator[None]:
    """The main process runs the block first (e.g. filling a cache on disk), then the others."""
    if not launched():
        yield
        return
    with state().main_process_first():
        yield


def sharded_engine() -> str | None:
    """``"zero3"`` or ``"fsdp"`` when the training engine shards parameters across processes, else None."""
    if not launched():
        return None
    from accelerate.state import AcceleratorState

    if not AcceleratorState._shared_state:  # no trainer has set up an engine (yet)
        return None
    acc = AcceleratorState()
    plugin = getattr(acc, "deepspeed_plugin", None)
    if plugin is not None and getattr(plugin, "zero_stage", 0) == 3:
        return "zero3"
    if getattr(acc, "fsdp_plugin", None) is not None:
        return "fsdp"
    return None


@contextlib.contextmanager
def full_weights(model) -> Iterator[None]:
    """Every process holds the model's full weights inside the block (for generation or saving), whatever the engine.

    DDP and one process: nothing to do. DeepSpeed ZeRO-3: the parameters are gathered the way trl gathers them for
    GRPO generation (``deepspeed.zero.GatheredParameters``). FSDP2: every ``fully_shard``-ed module is unsharded and
    kept so until the block ends. Every process must enter the block together (gathering is collective).
    Prepared for GPUs and not run here: on CPU accelerate enables neither engine (see README "Scaling out").
    """
    engine = sharded_engine()
    if engine == "zero3":
        import deepspeed

        with deepspeed.zero.GatheredParameters(list(model.parameters()), modifier_rank=None):
            yield
        return
    if engine == "fsdp":
        from torch.distributed.fsdp import FSDPModule

        modules = [m for m in model.modules() if isinstance(m, FSDPModule)]
        for module in modules:
            module.set_reshard_after_forward(False)
            module.unshard()
        try:
            yield
        finally:
            for module in modules:
                module.reshard()
                module.set_reshard_after_forward(True)
        return
    yield
