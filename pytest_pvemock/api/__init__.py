"""The API layer: PVE's REST surface over the model. Knows nothing of which library sent a request."""
