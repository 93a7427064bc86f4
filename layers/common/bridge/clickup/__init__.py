"""ClickUp API v2: the one client module (all HTTP, retries, rate-limit hooks), its models and errors."""
