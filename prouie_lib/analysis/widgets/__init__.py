"""ipywidgets (8.x) to inspect a run: extractions, reward traces, and a reward playground.

Each widget is a ``VBox`` subclass built by a function from a run directory, a
:class:`~prouie_lib.analysis.loaders.RunData` or the table it needs. Its controls and views are attributes,
so code (and tests) can drive it without a browser: set ``widget.step.value = 2`` and read
``widget.group_view.value``. Views are ``HTML`` widgets and PNG ``Image`` widgets (``figure`` keeps the last
matplotlib figure), which render the same in JupyterLab and headless.

One module per widget: :mod:`.inspector`, :mod:`.trace_viewer`, :mod:`.playground`, :mod:`.extract_form` (try a
model on your own text; shared helpers in :mod:`.base`).
"""

from prouie_lib.analysis.widgets.base import table_html
from prouie_lib.analysis.widgets.extract_form import ExtractForm, extract_form
from prouie_lib.analysis.widgets.inspector import ExtractionInspector, extraction_inspector
from prouie_lib.analysis.widgets.playground import (
           RewardPlayground,
           plot_replay,
           registered_rewards,
           reward_playground,
)
from prouie_lib.analysis.widgets.trace_viewer import RewardTraceViewer, group_html, reward_trace_viewer

__all__ = ["ExtractForm", "ExtractionInspector", "RewardPlayground", "RewardTraceViewer", "extract_form",
           "extraction_inspector", "group_html", "plot_replay", "registered_rewards", "reward_playground",
           "reward_trace_viewer", "table_html"]
