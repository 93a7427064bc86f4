"""The organisation's ClickUp connection: status, token use, personal tokens, default workspace, disconnect."""
