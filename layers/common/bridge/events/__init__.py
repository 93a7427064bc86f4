"""Portal events: every change the portal should learn about, stored in its feed and put on the event bus."""
