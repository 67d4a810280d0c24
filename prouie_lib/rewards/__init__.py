"""Rewards for GRPO (stage DE): the stepwise fine-grained reward (SFR), ablation baselines, a registry,
a trl adapter and replay of logged completions. The formula is documented in :mod:`.sfr`."""

from prouie_lib.rewards.base import FunctionReward, Reward, RewardResult
from prouie_lib.rewards.baselines import ExactMatchReward, FormatReward, StrictF1Reward
from prouie_lib.rewards.registry import REWARDS, describe_rewards, get_reward, register_reward, resolve_reward
from prouie_lib.rewards.replay import read_traces, replay_traces, summarize_replay
from prouie_lib.rewards.sfr import DEFAULT_STEP_WEIGHTS, SFRConfig, StepwiseReward
from prouie_lib.rewards.steps import TASK_STEPS, prepare_gold, task_units
from prouie_lib.rewards.trl_adapter import TrlRewardFunction, completion_text, make_trl_reward_funcs
from prouie_lib.schema import normalize_text

__all__ = [
    "DEFAULT_STEP_WEIGHTS", "REWARDS", "TASK_STEPS", "ExactMatchReward", "FormatReward", "FunctionReward",
    "Reward", "RewardResult", "SFRConfig", "StepwiseReward", "StrictF1Reward", "TrlRewardFunction",
    "completion_text", "describe_rewards", "get_reward", "make_trl_reward_funcs", "normalize_text",
    "prepare_gold", "read_traces", "register_reward", "replay_traces", "resolve_reward", "summarize_replay",
    "task_units",
]
