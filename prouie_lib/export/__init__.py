"""Exports for engines beyond trl (verl)."""
