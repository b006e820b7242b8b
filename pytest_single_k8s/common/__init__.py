"""Small helpers every layer shares: parallel steps, the one retry mechanism, progress, processes, paths."""
