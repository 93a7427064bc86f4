"""Storage: one module per kind of row in the bridge's table. Every key starts with the organisation where the
row belongs to one; lookups by a foreign id (webhook id, OAuth state) carry the organisation inside."""
