"""Former name of :mod:`prouie_lib.rewards.steps` (the SFR steps); kept so that older imports keep working."""

from prouie_lib.rewards.steps import (  # noqa: F401 - re-exported
    ALL_STEPS,
    STRICT_STEPS,
    TASK_STEPS,
    PreparedGold,
    TaskUnits,
    prepare_gold,
    task_units,
)
