"""The portal's identity provider, locally: an RSA key pair kept in the state folder, its JWKS, and tokens.

`clickup-bridge dev-token` and the running stack share the key through the state folder (.local/ by default).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.definitions import JWT_AUDIENCE, LOCAL_JWT_ISSUER
from local.runtime import ROOT

KEY_ID = "local-dev-key-1"


def state_dir() -> Path:
    path = Path(os.environ.get("BRIDGE_STATE_DIR", ROOT / ".local"))
    path.mkdir(parents=True, exist_ok=True)
    return path


class LocalIdentityProvider:
    def __init__(
        self, directory: Path | None = None, issuer: str = LOCAL_JWT_ISSUER, audience: str = JWT_AUDIENCE
    ) -> None:
        self.issuer, self.audience = issuer, audience
        key_file = (directory or state_dir()) / "idp-private-key.pem"
        if key_file.exists():
            self._key: Any = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        else:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = self._key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            key_file.write_bytes(pem)
            key_file.chmod(0o600)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}

    def mint(self, org_id: str, user: str = "dev-user", role: str = "admin", ttl_s: int = 3600, **extra: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user,
            "org_id": org_id,
            "role": role,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_s,
            "jti": uuid.uuid4().hex,
            **extra,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KEY_ID})
