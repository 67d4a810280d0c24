"""A registry of reward designs by name: built-ins plus whatever a user registers (e.g. in a notebook).

    from prouie_lib.rewards import register_reward, RewardResult

    @register_reward("span_only")                  # structure level: (ParseResult, gold dict)
    def span_only(parsed, gold):
        ...
        return RewardResult(total, {"my_part": x})   # or just a float

    @register_reward("len_penalty", level="completion")   # (completion text, gold dict, format name)
    def len_penalty(completion, gold, fmt):
        return -len(completion) / 1000

Re-running the cell that defines a reward replaces it (same qualified name); registering a
different function under a taken name needs ``overwrite=True``.

Rewards from user code: wherever a reward is named (``de.reward`` in a run config, ``get_reward``,
``make_trl_reward_funcs``), :func:`resolve_reward` also accepts ``module:function`` (an importable module) or
``path/to/file.py:function`` (a file, relative to the working directory), and ``:Name`` may also be a
:class:`Reward` instance or class, or the name the module registered a reward under. The reward is loaded and
registered under that spec, so ``prouie pipeline --set de.reward=my_rewards.py:span_only`` trains with it
(see ``docs/rewards_from_user_code.md``).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from prouie_lib.rewards.base import FunctionReward, Reward
from prouie_lib.rewards.baselines import ExactMatchReward, FormatReward, StrictF1Reward
from prouie_lib.rewards.sfr import StepwiseReward

REWARDS: dict[str, Reward] = {}


class UnknownRewardError(KeyError):
    """A reward spec that names no registered reward and cannot be loaded (the message says why)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


BUILTIN_REWARDS: tuple[str, ...] = ("sfr", "exact_match", "strict_f1", "format")


def _origin(reward: Reward) -> tuple[str, str]:
    """Where a reward was defined: (module, qualified name) of its function, or of its class."""
    target = reward.fn if isinstance(reward, FunctionReward) else type(reward)
    return getattr(target, "__module__", ""), getattr(target, "__qualname__", repr(target))


def register_reward(name: str, *, level: str = "structure", overwrite: bool = False,
                    description: str = "") -> Callable[[Any], Any]:
    """Decorator: register a function (or a :class:`Reward` instance) under ``name``; returns it unchanged."""
    if not isinstance(name, str) or not name.strip() or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"reward name must be letters, digits, '_' or '-', got {name!r}")

    def decorate(obj: Any) -> Any:
        if isinstance(obj, Reward):
            reward = obj
            reward.name = name
        elif callable(obj):
            reward = FunctionReward(name, obj, level=level, description=description)
        else:
            raise TypeError(f"register_reward({name!r}) needs a function or a Reward, "
                            f"got {type(obj).__name__}")
        old = REWARDS.get(name)
        same_origin = old is not None and _origin(old) == _origin(reward) and name not in BUILTIN_REWARDS
        if old is not None and not overwrite and not same_origin:
            raise ValueError(f"reward {name!r} is already registered ({_origin(old)[1]}); "
                             "pass overwrite=True to replace it")
        REWARDS[name] = reward
        return obj

    return decorate


def get_reward(name_or_reward: str | Reward | Callable[..., Any], **options: Any) -> Reward:
    """A reward by name or spec (:func:`resolve_reward`), or a Reward / structure-level function passed through.

    ``options`` configure the reward (SFR weights and fields, e.g. ``get_reward("sfr", format=0.2,
    floor=-1.0)``); rewards without options reject them.
    """
    if isinstance(name_or_reward, Reward):
        reward = name_or_reward
    elif isinstance(name_or_reward, str):
        reward = resolve_reward(name_or_reward)
    elif callable(name_or_reward):
        fn_name = getattr(name_or_reward, "__name__", type(name_or_reward).__name__)
        reward = FunctionReward(fn_name, name_or_reward)
    else:
        raise TypeError("expected a reward name, a Reward or a function, "
                        f"got {type(name_or_reward).__name__}")
    if options:
        reward = reward.configured(options)
    return reward


def resolve_reward(spec: str) -> Reward:
    """The reward ``spec`` names: a registered name, ``module:attr`` or ``path/to/file.py:attr``.

    ``attr`` is a structure-level function ``fn(parsed, gold)`` (a function the module registered with
    :func:`register_reward` keeps its level and description), a :class:`Reward` instance or class, or the name
    under which the module registered a reward. The module is imported (the working directory is searched
    too) or the file executed, and the reward registered under ``spec``, so later look-ups by the same spec
    find it; a file edited since it was loaded is loaded again. Raises :class:`UnknownRewardError` (a
    ``KeyError``) naming the spec and what went wrong.
    """
    if not isinstance(spec, str):
        raise TypeError(f"a reward spec is a string, got {type(spec).__name__}")
    found = REWARDS.get(spec)
    if found is not None and not _file_changed(spec):
        return found
    target, sep, attr = spec.rpartition(":")
    if not sep or not target.strip() or not attr.strip():
        raise UnknownRewardError(f"unknown reward {spec!r}; registered: {', '.join(sorted(REWARDS))} "
                                 "(or give module:function or path/to/file.py:function)")
    module = _load_file(spec, target) if _is_path(target) else _import_module(spec, target)
    reward = _reward_in(module, attr.strip(), spec)
    REWARDS[spec] = reward
    return reward


_FILE_STAMPS: dict[str, tuple[Path, int]] = {}  # spec -> (file, mtime) of the rewards loaded from files


def _is_path(target: str) -> bool:
    return target.endswith(".py") or "/" in target or os.sep in target


def _file_changed(spec: str) -> bool:
    stamp = _FILE_STAMPS.get(spec)
    if stamp is None:
        return False
    try:
        return stamp[0].stat().st_mtime_ns != stamp[1]
    except OSError:
        return False


def _load_file(spec: str, target: str) -> ModuleType:
    path = Path(target).expanduser().resolve()
    if not path.is_file():
        raise UnknownRewardError(f"reward {spec!r}: no such file {target!r} (relative to {Path.cwd()})")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = "prouie_user_reward_" + "".join(c if c.isalnum() else "_" for c in path.stem) + "_" + digest
    mtime = path.stat().st_mtime_ns
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise UnknownRewardError(f"reward {spec!r}: cannot load {path} as Python code")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module  # dataclasses, pickling and inspect look the module up by name
    try:
        loader_spec.loader.exec_module(module)
    except Exception as err:
        sys.modules.pop(name, None)
        raise UnknownRewardError(f"reward {spec!r}: loading {path} failed: {type(err).__name__}: {err}") from err
    _FILE_STAMPS[spec] = (path, mtime)
    return module


def _import_module(spec: str, target: str) -> ModuleType:
    cwd = os.getcwd()
    added = "" not in sys.path and cwd not in sys.path
    if added:  # a console script does not search the working directory; `python -m` does
        sys.path.append(cwd)
    try:
        return importlib.import_module(target.strip())
    except Exception as err:
        raise UnknownRewardError(f"unknown reward {spec!r}: cannot import module {target!r} "
                                 f"({type(err).__name__}: {err})") from err
    finally:
        if added:
            sys.path.remove(cwd)


def _reward_in(module: ModuleType, attr: str, spec: str) -> Reward:
    obj = getattr(module, attr, None)
    if obj is None:  # the name the module registered a reward under
        registered = REWARDS.get(attr)
        if registered is not None and _origin(registered)[0] == module.__name__:
            return registered
        raise UnknownRewardError(f"reward {spec!r}: {module.__name__} has no {attr!r} "
                                 "(neither an attribute nor a reward it registered)")
    if isinstance(obj, type) and issubclass(obj, Reward):
        obj = obj()
    if isinstance(obj, Reward):
        return obj
    if callable(obj) and not isinstance(obj, type):
        for reward in REWARDS.values():  # registered with @register_reward: keep its level and description
            if isinstance(reward, FunctionReward) and reward.fn is obj:
                return reward
        return FunctionReward(getattr(obj, "__name__", attr), obj)
    kind = "a class that is not a Reward" if isinstance(obj, type) else f"a {type(obj).__name__}"
    raise UnknownRewardError(f"reward {spec!r}: {attr!r} is {kind}, not a reward function or Reward")


def describe_rewards() -> dict[str, str]:
    """{name: one-line description} of every registered reward."""
    return {name: reward.description for name, reward in sorted(REWARDS.items())}


register_reward("sfr")(StepwiseReward())
register_reward("exact_match")(ExactMatchReward())
register_reward("strict_f1")(StrictF1Reward())
register_reward("format")(FormatReward())
