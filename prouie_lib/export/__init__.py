"""Exports for engines beyond trl (verl) and for use outside the kit (one merged Hugging Face checkpoint)."""
