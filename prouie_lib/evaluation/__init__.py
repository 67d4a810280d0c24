"""Evaluation: batched prediction (:mod:`.predict`), scoring protocols (:mod:`.protocols`), P/R/F1 tables
(:mod:`.score`); the ``prouie eval`` / ``prouie predict`` commands are in :mod:`prouie_lib.cli`.

Kept light at import time: import the submodules you need.
"""
