"""Space sync: the ClickUp hierarchy (spaces, folders, lists, statuses) kept in our store."""
