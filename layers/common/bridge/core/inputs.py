"""What a value from outside must look like before it becomes a comparison, a header, a URL path segment or a
DynamoDB key. One place, so every route applies the same rule to the same kind of value.

Any value the portal, a browser or ClickUp sends may hold any Unicode: NUL and other control characters, `\\r\\n`,
lone UTF-16 surrogates (JSON's `"\\ud800"`, which cannot be encoded as UTF-8), bidirectional marks, emoji, or be
very long. Where such a value ends decides what can break:

- **a DynamoDB key**: DynamoDB refuses an empty key attribute and keys over 2,048 bytes (partition) / 1,024 bytes
  (sort) (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html, "Partition keys and
  sort keys"); boto3 cannot even serialise a lone surrogate;
- **an HTTP header** sent to ClickUp (`Authorization`): httpx refuses non-ASCII values and h11 refuses control
  characters (RFC 9110 §5.5: a field value is visible ASCII, spaces and tabs);
- **a URL path** at ClickUp: `..` or `/` in an id would address another resource.

So identifiers are checked against a pattern here, and anything else gets a 4xx with a stable code at the edge.
Patterns are anchored and ASCII-only on purpose (`[0-9]`, never `\\d`, which matches other scripts' digits).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from pydantic_core import PydanticCustomError

if TYPE_CHECKING:
    from pydantic import BeforeValidator, Field, StringConstraints

# ClickUp's ids: numeric strings (workspace, space, folder, list, user, comment), short alphanumerics (task ids,
# custom task ids like `ABC-123`) and UUIDs (webhooks, custom fields). None holds anything outside this set.
CLICKUP_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# The portal's own ids (customers): 1..128 visible ASCII characters without `/`, `\` or `%`, not starting with `.`
# (so never `.` or `..`): no space, control, non-ASCII, path or percent-escape character.
PORTAL_ID_PATTERN = r"^[\x21-\x24\x26-\x2d\x30-\x5b\x5d-\x7e][\x21-\x24\x26-\x2e\x30-\x5b\x5d-\x7e]{0,127}$"
# A credential or an opaque value that travels in an HTTP header or a query: visible ASCII only (RFC 9110 §5.5
# without spaces; a token never holds one).
VISIBLE_ASCII_PATTERN = r"^[\x21-\x7e]+$"
CLAIM_MAX_CHARS = 256  # 4 bytes a character at most: ORG#{claim} stays far below DynamoDB's 2,048 bytes


def _query_bool(value: Any) -> Any:
    """A query flag in its documented form only: `true` or `false` (pydantic's lax mode also took `1`, `yes`,
    `on`, `t`, `True`...: a flag such as `purge` must not be set by a spelling nobody documented)."""
    if isinstance(value, bool):
        return value  # a default
    if value in ("true", "false"):
        return value == "true"
    raise PydanticCustomError("bool_parsing", "must be true or false")


_DECIMAL = re.compile(r"^-?[0-9]{1,18}$")


def _query_int(value: Any) -> Any:
    """A query integer in its documented form only: ASCII decimal digits (lax mode also took `+5`, ` 5`, `5.0`,
    `1_0` and non-ASCII digits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # a default
    if isinstance(value, str) and _DECIMAL.match(value):
        return int(value)
    raise PydanticCustomError("int_parsing", "must be an integer in decimal digits")


# The types below are pydantic's (`Annotated` with its constraints), imported on first use: the `is_*` checks are
# what the webhook ingestion function needs, and its cold start does not load pydantic's models (issue 18).
if TYPE_CHECKING:
    ClickUpId = Annotated[str, StringConstraints(pattern=CLICKUP_ID_PATTERN)]
    # A ClickUp user id is a positive integer; a JSON number holds integers exactly up to 2**53 - 1 (RFC 8259 §6),
    # and DynamoDB stores at most 38 digits: 10**40 was a 500 when the change was stored.
    ClickUpUserId = Annotated[int, Field(ge=1, le=2**53 - 1)]
    PortalId = Annotated[str, StringConstraints(pattern=PORTAL_ID_PATTERN)]
    # Query parameters arrive as strings: these parse exactly the documented string form, nothing else.
    QueryBool = Annotated[bool, BeforeValidator(_query_bool)]
    QueryInt = Annotated[int, BeforeValidator(_query_int)]


@cache
def _pydantic_types() -> dict[str, Any]:
    """`ClickUpId`, `ClickUpUserId`, `PortalId`, `QueryBool`, `QueryInt` (as declared for type checkers above)."""
    from pydantic import BeforeValidator, Field, StringConstraints

    return {
        "ClickUpId": Annotated[str, StringConstraints(pattern=CLICKUP_ID_PATTERN)],
        "ClickUpUserId": Annotated[int, Field(ge=1, le=2**53 - 1)],
        "PortalId": Annotated[str, StringConstraints(pattern=PORTAL_ID_PATTERN)],
        "QueryBool": Annotated[bool, BeforeValidator(_query_bool)],
        "QueryInt": Annotated[int, BeforeValidator(_query_int)],
    }


_PYDANTIC_TYPES = frozenset({"ClickUpId", "ClickUpUserId", "PortalId", "QueryBool", "QueryInt"})


def __getattr__(name: str) -> Any:
    if name in _PYDANTIC_TYPES:  # never for another name (`__path__`, asked by every `from … import`)
        return _pydantic_types()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_clickup_id = re.compile(CLICKUP_ID_PATTERN)
_visible_ascii = re.compile(VISIBLE_ASCII_PATTERN)


# DynamoDB's numbers: up to 38 significant digits, magnitudes from 1E-130 to 9.99...9E+125 (38 digits)
# (and 0); no NaN or Infinity (Developer Guide, "Supported data types and naming rules", Number). boto3 raises
# decimal.Inexact / Underflow / Overflow on anything else, so a number from outside is checked before it is stored.
DYNAMODB_MAX_DIGITS = 38
DYNAMODB_MIN_MAGNITUDE = 1e-130
DYNAMODB_MAX_MAGNITUDE = 1e126  # exclusive


def dynamodb_number_problem(value: int | float) -> str | None:
    """Why DynamoDB could not store `value` exactly, or None (ints beyond 38 digits, floats not finite or outside
    DynamoDB's magnitudes)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if len(str(abs(value))) <= DYNAMODB_MAX_DIGITS else "more than 38 significant digits"
    if value != value or value in (float("inf"), float("-inf")):
        return "not a finite number"
    magnitude = abs(value)
    if magnitude and not (DYNAMODB_MIN_MAGNITUDE <= magnitude < DYNAMODB_MAX_MAGNITUDE):
        return "outside 1E-130..9.99E+125 in magnitude"
    return None


def is_clickup_id(value: object) -> bool:
    """True for a string that can be a ClickUp id (see CLICKUP_ID_PATTERN); never raises."""
    return isinstance(value, str) and _clickup_id.fullmatch(value) is not None


def is_token_text(value: object, max_chars: int = 512) -> bool:
    """True for 1..max_chars visible ASCII characters: safe as an HTTP header value, a query value or a key."""
    return isinstance(value, str) and 0 < len(value) <= max_chars and _visible_ascii.fullmatch(value) is not None


def is_identity(value: object) -> bool:
    """True for an identity claim (`org_id`, `sub`) the bridge can key rows by exactly as asserted: 1..256
    characters, no leading or trailing space, no control, format (bidi marks, zero-width), surrogate, private-use
    or unassigned character. Never raises."""
    if not isinstance(value, str) or not value or len(value) > CLAIM_MAX_CHARS or value != value.strip():
        return False
    return all(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in value)


def utf8_or_none(value: str) -> bytes | None:
    """The UTF-8 bytes of `value`, or None when it holds a lone surrogate (not Unicode text)."""
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        return None


class JsonRefused(ValueError):
    """JSON text two readers could read differently: `code` (`invalid_json` or `invalid_body`) and `message`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _refuse_constant(name: str) -> Any:
    raise JsonRefused("invalid_json", f"{name} is not a JSON value (RFC 8259 §6)")


def _unique_names(items: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in items]
    if len(set(names)) != len(names):
        repeated = next(n for i, n in enumerate(names) if n in names[:i])
        raise JsonRefused(
            "invalid_body", f"the body repeats the member name {repeated[:100]!r} in one object (RFC 7493 §2.3)"
        )
    return dict(items)


def strict_json(text: str | bytes) -> Any:
    """Parse JSON as RFC 8259 defines it and as one reader only could read it. Raises `JsonRefused` for
    `NaN`, `Infinity`, `-Infinity` (RFC 8259 §6: "not permitted", though Python's json module reads them) → code
    `invalid_json`, and for a member name repeated in one object (RFC 8259 §4 leaves which one counts to the
    parser; I-JSON, RFC 7493 §2.3, forbids it) → code `invalid_body`; `ValueError` (or `UnicodeDecodeError`) when
    the text is not JSON at all."""
    return json.loads(text, object_pairs_hook=_unique_names, parse_constant=_refuse_constant)


def json_text_problem(text: str) -> tuple[str, str] | None:
    """(code, message) of `strict_json`'s refusal, or None (also when the text is not JSON: the caller's own
    parser then answers 400 invalid_json)."""
    try:
        strict_json(text)
    except JsonRefused as refused:
        return refused.code, refused.message
    except ValueError:
        return None
    return None
