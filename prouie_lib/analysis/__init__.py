"""Analysis of run directories and datasets: tables, error analysis, figures and widgets (import the submodule
you need).

- :mod:`.run_files` — reading run-directory files: JSON with located errors, the stage folders present;
- :mod:`.loaders` — a run directory → tidy pandas tables (:func:`~.loaders.load_run`);
- :mod:`.traces` — DE's reward traces → a table, and back to JSON lines;
- :mod:`.tables` — the ablation table, reward statistics per step, zero-spread groups, dataset tables;
- :mod:`.errors` — unit-level error categories and type confusion;
- :mod:`.highlight` — text with gold/predicted spans as HTML;
- :mod:`.reward_tables` — per-unit SFR breakdown, GRPO groups, reward replay and ranking changes;
- :mod:`.plots` — matplotlib figures of a run (loss, reward components, zero spread, lengths, ablation,
  errors) and :func:`~.plots.show_figure`, the one way to show any figure;
- :mod:`.data_plots` — figures of datasets (label distribution, text lengths, annotation density);
- :mod:`.stage_progress`, :mod:`.stage_examples` — CM per phase, the DE probe, outputs across stages;
- :mod:`.rescoring`, :mod:`.report` — every protocol's scores of a run, the run's report;
- :mod:`.widgets` — ipywidgets: ExtractionInspector, RewardTraceViewer, RewardPlayground.
"""
