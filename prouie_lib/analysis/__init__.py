"""Analysis of run directories: tables, error analysis, figures and widgets (import the submodule you need).

- :mod:`.loaders` — a run directory → tidy pandas tables (:func:`~.loaders.load_run`);
- :mod:`.errors` — unit-level error categories and type confusion;
- :mod:`.highlight` — text with gold/predicted spans as HTML;
- :mod:`.reward_tables` — per-unit SFR breakdown, GRPO groups, reward replay and ranking changes;
- :mod:`.plots` — matplotlib figures (loss, reward components, zero spread, lengths, ablation, errors);
- :mod:`.widgets` — ipywidgets: ExtractionInspector, RewardTraceViewer, RewardPlayground.
"""
