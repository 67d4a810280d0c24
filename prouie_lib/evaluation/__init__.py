"""Evaluation: batched prediction (:mod:`.predict`), scoring protocols (:mod:`.protocols`), P/R/F1 tables
(:mod:`.score`) and the ``prouie eval`` / ``prouie predict`` commands (:mod:`.cli`).

Kept light at import time: import the submodules you need.
"""
