"""A stateful ClickUp API v2 emulator (models / routes / control, split as moto splits a service)."""
