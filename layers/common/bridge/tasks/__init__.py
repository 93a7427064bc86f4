"""The task pipeline: a ticket becomes exactly one ClickUp task."""
