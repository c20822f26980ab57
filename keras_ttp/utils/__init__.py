"""Shared helpers of keras-ttp."""
