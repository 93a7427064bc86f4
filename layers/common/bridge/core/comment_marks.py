"""What a link remembers of a task's comments to tell our own comments' webhooks (echoes) from news: the digest
of a comment's compared text, and the mark the task pipeline leaves on a comment it posted. Pure; used by the
webhook processing and the task pipeline alike, so it lives below both."""

from __future__ import annotations

import hashlib
from typing import Any

from bridge.core.echo_forms import comment_text as canonical_comment_text


def digest(text: str | None) -> str:
    """A comment text's digest (12 hex characters) in its compared form (`echo_forms.comment_text`)."""
    return hashlib.sha256(canonical_comment_text(text or "").encode()).hexdigest()[:12]


def record_own_comment(link: dict[str, Any], comment_id: str, text: str, date_ms: int) -> None:
    """The task pipeline posted this comment (ClickUp answered its id): its webhook is not news, an edit of it is.
    Updates `link["comments"]` in place."""
    comments = dict(link.get("comments") or {})
    state = dict(comments.get(comment_id) or {"d": 0, "h": "", "k": []})
    state.update({"a": True, "own": True})
    if int(date_ms) >= int(state.get("d") or 0):
        state["d"], state["h"] = int(date_ms), digest(text)
    comments[comment_id] = state
    link["comments"] = comments
