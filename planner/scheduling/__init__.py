"""Scheduling: from visit frequencies to visit days (patterns), reps (territories) and balance."""
