"""Plumbing every layer may use: input checks and the state guard (:mod:`.checks`), progress bars
(:mod:`.progress`), saving results without pickle (:mod:`.saving`) and their HTML summaries (:mod:`.html`).

Imports nothing else of attrkit.
"""
