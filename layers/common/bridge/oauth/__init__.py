"""Connecting an organisation to ClickUp through OAuth: the state, the callback, the return to the portal."""
