"""moto's SQS rebuilds a queue's whole attribute map several times per SendMessage, converting each attribute
name from CamelCase with regular expressions every time (measured: a FIFO send p50 17-22 ms, most of it in that
conversion). `install()` memoizes the conversion (a pure function of the name); behaviour is unchanged."""

from __future__ import annotations

import functools

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.sqs import models

    models.camelcase_to_underscores = functools.lru_cache(maxsize=512)(models.camelcase_to_underscores)
    _installed = True
