"""A local identity provider's JWKS endpoint for tests: a real HTTP server on 127.0.0.1 with
generated RSA and EC keys, whose key set a test can rotate, and which counts its requests."""

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "kurator-api"


@dataclass
class SigningKey:
    kid: str
    algorithm: str  # RS256 or ES256
    private: Any

    @classmethod
    def new(cls, algorithm: str = "RS256") -> "SigningKey":
        private = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if algorithm == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )
        return cls(f"test-{uuid.uuid4().hex[:8]}", algorithm, private)

    def jwk(self) -> dict[str, Any]:
        codec = RSAAlgorithm if self.algorithm == "RS256" else ECAlgorithm
        public: dict[str, Any] = codec.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": self.algorithm}


@dataclass
class Provider:
    issuer: str
    jwks_url: str
    keys: list[SigningKey]
    fetches: int = 0
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def token(
        self,
        staff_id: str,
        *,
        key: SigningKey | None = None,
        issuer: str | None = None,
        audience: str = AUDIENCE,
        expires_in: timedelta = timedelta(minutes=5),
        **claims: Any,
    ) -> str:
        key = key or self.keys[0]
        now = datetime.now(UTC)
        body = {
            "iss": issuer or self.issuer,
            "aud": audience,
            "iat": now,
            "exp": now + expires_in,
            "preferred_username": staff_id,
            **claims,
        }
        return jwt.encode(body, key.private, algorithm=key.algorithm, headers={"kid": key.kid})


@contextmanager
def jwks_provider(*keys: SigningKey) -> Iterator[Provider]:
    provider: Provider

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with provider.lock:
                provider.fetches += 1
                document = {"keys": [key.jwk() for key in provider.keys]}
            if provider.down or self.path != "/realms/kurator/certs":
                self.send_error(503 if provider.down else 404)
                return
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}/realms/kurator"
    provider = Provider(issuer=base, jwks_url=f"{base}/certs", keys=list(keys))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
