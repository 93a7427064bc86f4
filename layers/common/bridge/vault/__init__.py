"""The token vault: the one module that encrypts and decrypts ClickUp tokens and webhook secrets."""
