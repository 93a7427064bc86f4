"""Queue messages: the pydantic contracts of what travels on each SQS queue."""
