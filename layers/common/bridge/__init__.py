"""Shared code of the ClickUp bridge (the Lambda layer). One subpackage per capability."""

__version__ = "0.1.0"
