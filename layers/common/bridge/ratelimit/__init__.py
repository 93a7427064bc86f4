"""The per-organisation ClickUp budget, shared by every Lambda through DynamoDB."""
