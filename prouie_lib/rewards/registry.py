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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prouie_lib.rewards.base import FunctionReward, Reward
from prouie_lib.rewards.baselines import ExactMatchReward, FormatReward, StrictF1Reward
from prouie_lib.rewards.sfr import StepwiseReward

REWARDS: dict[str, Reward] = {}


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
    """A registered reward by name (or pass a Reward / structure-level function through).

    ``options`` configure the reward (SFR weights and fields, e.g. ``get_reward("sfr", format=0.2,
    floor=-1.0)``); rewards without options reject them.
    """
    if isinstance(name_or_reward, Reward):
        reward = name_or_reward
    elif isinstance(name_or_reward, str):
        if name_or_reward not in REWARDS:
            raise KeyError(f"unknown reward {name_or_reward!r}; registered: {', '.join(sorted(REWARDS))}")
        reward = REWARDS[name_or_reward]
    elif callable(name_or_reward):
        fn_name = getattr(name_or_reward, "__name__", type(name_or_reward).__name__)
        reward = FunctionReward(fn_name, name_or_reward)
    else:
        raise TypeError("expected a reward name, a Reward or a function, "
                        f"got {type(name_or_reward).__name__}")
    if options:
        reward = reward.configured(options)
    return reward


def describe_rewards() -> dict[str, str]:
    """{name: one-line description} of every registered reward."""
    return {name: reward.description for name, reward in sorted(REWARDS.items())}


register_reward("sfr")(StepwiseReward())
register_reward("exact_match")(ExactMatchReward())
register_reward("strict_f1")(StrictF1Reward())
register_reward("format")(FormatReward())
