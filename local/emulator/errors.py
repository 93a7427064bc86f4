"""ClickUp's error answers: a status and a JSON body `{"err": ..., "ECODE": ...}`.

Codes come from ClickUp's docs (../shared/clickup/FACTS.md §5). Where ClickUp documents no code for a case
(e.g. a bad client secret at the token exchange), the emulator uses the code named here and says so in README.
"""

from __future__ import annotations


class ClickUpError(Exception):
    def __init__(self, status: int, err: str, ecode: str) -> None:
        super().__init__(f"{status} {ecode} {err}")
        self.status, self.err, self.ecode = status, err, ecode

    def body(self) -> dict[str, str]:
        return {"err": self.err, "ECODE": self.ecode}


def auth_header_required() -> ClickUpError:
    return ClickUpError(401, "Authorization header required", "OAUTH_017")


def token_not_found() -> ClickUpError:
    return ClickUpError(401, "Oauth token not found", "OAUTH_019")


def token_revoked() -> ClickUpError:
    return ClickUpError(401, "Token revoked", "OAUTH_025")


def team_not_authorized() -> ClickUpError:
    return ClickUpError(401, "Team not authorized", "OAUTH_027")


def unknown_id() -> ClickUpError:
    # What ClickUp answers for an id that does not exist or is not visible (n8n PR #28584 observed this).
    return ClickUpError(401, "Team(s) not authorized", "OAUTH_023")


# What ClickUp answers for a space, folder, list or task id it does not have (or no longer shows) is not documented:
# n8n saw 401 OAUTH_023 (above), a recorded Get Space answered 404 {"err":"Space not found","ECODE":"PROJ_006"}
# (bstag/ClickUpApiMcpLib, FACTS.md §5). Both are offered (`unknown_id_answer`: "oauth_023" | "not_found").
UNKNOWN_ID_ANSWERS = ("oauth_023", "not_found")
NOT_FOUND_CODES = {
    "space": "PROJ_006",  # recorded
    "folder": "CAT_016",  # the emulator's guess (ClickUp calls folders categories internally)
    "list": "SUBCAT_016",  # the emulator's guess (lists are subcategories)
    "task": "ITEM_013",  # the emulator's guess
}


def not_found(kind: str) -> ClickUpError:
    return ClickUpError(404, f"{kind.capitalize()} not found", NOT_FOUND_CODES[kind])


def client_not_found() -> ClickUpError:
    return ClickUpError(400, "Client not found", "OAUTH_010")


def redirect_not_registered() -> ClickUpError:
    return ClickUpError(400, "Redirect URI not registered", "OAUTH_007")


def redirect_missing() -> ClickUpError:
    return ClickUpError(400, "Redirect URI not passed", "OAUTH_017")


def client_secret_invalid() -> ClickUpError:
    return ClickUpError(401, "Client secret invalid", "OAUTH_011")  # emulator's choice: undocumented


def code_invalid() -> ClickUpError:
    return ClickUpError(401, "Code not found or already used", "OAUTH_015")  # emulator's choice: undocumented


def webhook_exists() -> ClickUpError:
    return ClickUpError(400, "Webhook configuration already exists", "OAUTH_171")


def rate_limited() -> ClickUpError:
    return ClickUpError(429, "Rate limit reached", "APP_002")


def bad_request(err: str, ecode: str = "INPUT_005") -> ClickUpError:
    return ClickUpError(400, err, ecode)
