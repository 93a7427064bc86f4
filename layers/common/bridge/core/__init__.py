"""Cross-cutting pieces every capability uses: configuration, observability, AWS clients, errors."""
