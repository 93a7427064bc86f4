"""The HTTP API layer: one resolver factory, the caller's identity, and the error contract."""
