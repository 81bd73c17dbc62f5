"""Offline evaluation of the support turn on real data sets (import as `from eval.… import …`)."""
