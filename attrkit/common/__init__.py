"""Plumbing every layer may use: input checks and the state guard (:mod:`.checks`), a tuple of inputs packed as
one tensor (:mod:`.parts`), reading class scores from a model's output (:mod:`.outputs`), progress bars
(:mod:`.progress`), saving results without pickle (:mod:`.saving`) and their HTML summaries (:mod:`.html`).

Imports nothing else of attrkit.
"""
