"""The connection lifecycle, above the use cases it drives (webhooks, sync, tasks)."""
