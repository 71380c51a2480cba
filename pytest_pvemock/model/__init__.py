"""The model: cluster state, guests, tasks, the HA manager and the clock. Pure Python, no HTTP."""
