"""Verdicts: the rules that judge a cell's evidence and the reason vocabulary."""
