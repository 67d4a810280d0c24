"""Evaluation: batched prediction (:mod:`.predict`), P/R/F1 tables (:mod:`.score`, the entry; it reads its
inputs with :mod:`.inputs` and leaves each scoring step to a protocol of :mod:`.protocols`); the
``prouie eval`` / ``prouie predict`` commands are in :mod:`prouie_lib.cli`.

Kept light at import time: import the submodules you need.
"""
