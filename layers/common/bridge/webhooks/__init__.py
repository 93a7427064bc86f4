"""Our webhooks at ClickUp: registration (and re-registration), ingestion and processing."""
