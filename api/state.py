"""What the API's lifespan builds once and routes use: engine, sessions, Temporal client."""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.auth import VerifiedTokens
from api.oidc import OidcVerifier
from infra.sealing.family_keys import FamilyKeyStore
from models.db import SessionFactory
from models.reports.compute import ReportSetup
from models.settings import Settings


@dataclass(frozen=True)
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    # For a read of one statement: autocommit, so PostgreSQL makes the statement its own
    # transaction and the session sends no BEGIN and no ROLLBACK (two round trips a request).
    # Anything of more than one statement uses `sessions`; so does any write but the claim of
    # an idempotency key, a single INSERT that autocommit makes its own transaction.
    reads: SessionFactory
    temporal: Client
    # Data keys of families: the Temporal client's codec and the sealed columns use them.
    keys: FamilyKeyStore
    jwt_secret: bytes
    pseudonym_secret: bytes
    # The indicator set, the production calendar and the local offset reports use.
    reports: ReportSetup
    # Tokens of the ministry's identity provider, when KURATOR_OIDC_* configure one.
    oidc: OidcVerifier | None = None
    # Kurator's own HS256 tokens (Settings.accepts_local_tokens).
    local_tokens: bool = True
    # Kurator's own tokens whose signature verified (their claims are checked at each use).
    verified_tokens: VerifiedTokens = field(default_factory=VerifiedTokens)
