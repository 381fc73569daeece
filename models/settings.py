"""Process settings: one pydantic-settings class read from `KURATOR_*` environment variables.

Settings are loaded lazily through `get_settings()`, never at import time, so tests and the
dev stack can set the environment first.
"""

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "KURATOR_"
# scheme://host[:port], nothing after: what a browser sends as Origin.
_ORIGIN = re.compile(r"^https?://[^/\s?#*]+$")


# A worker's workflow cache: about 300 MiB per 1,000 cached cases (`make bench`), so the
# default fits a worker in 1 GiB; the open cases need not fit (see the README's sizing).
DEFAULT_MAX_CACHED_WORKFLOWS = 1000
# The connections the API and a worker keep: enough for the requests and activities a process
# runs at once. SQLAlchemy's default of 5 made the rest open a connection for one use and
# close it, a PostgreSQL backend started each time: at 12, with `make bench`'s 8 cases in
# flight, an intake's PostgreSQL CPU halved (12.7 to 6.5 ms) and the API's fell by 4 ms.
DEFAULT_DATABASE_POOL_SIZE = 12


class Settings(BaseSettings):
    """Every setting of a Kurator process. The README's configuration table mirrors this."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Field(
        Path(".kurator"),
        description="Where `kurator dev` keeps the embedded PostgreSQL and Temporal data.",
    )
    database_url: str | None = Field(
        None,
        description="PostgreSQL URL (postgresql://...). Unset: `kurator dev` embeds one.",
    )
    database_owner_url: str | None = Field(
        None,
        description="PostgreSQL URL of the schema's owner, for migrations (`kurator migrate`). "
        "Unset: KURATOR_DATABASE_URL. The API and the worker should log in as a member of "
        "`kurator_app` instead, which may only read and append the case history.",
    )
    temporal_address: str | None = Field(
        None,
        description="Temporal frontend host:port. Unset: `kurator dev` starts the dev server.",
    )
    temporal_namespace: str = Field("default", min_length=1, description="Temporal namespace.")
    task_queue: str = Field("kurator-cases", min_length=1, description="Kurator's task queue.")
    temporal_port: int = Field(7233, ge=1, le=65535, description="Dev server gRPC port.")
    temporal_ui_port: int = Field(8233, ge=1, le=65535, description="Dev server Web UI port.")
    api_host: str = Field("127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")
    jwt_secret: SecretStr | None = Field(
        None,
        description="Signs staff tokens (HS256). Unset: `kurator dev` generates one.",
    )
    # Sign-in through the ministry's identity provider (api/oidc.py): the three go together.
    oidc_issuer: str | None = Field(
        None, description="The OpenID Connect issuer (`iss`) whose tokens the API accepts."
    )
    oidc_audience: str | None = Field(
        None, description="The audience (`aud`) the provider's tokens must be meant for."
    )
    oidc_jwks_url: str | None = Field(
        None,
        validate_default=True,
        description="The provider's JWKS (its public signing keys), e.g. "
        "https://sso.example.org/realms/kurator/protocol/openid-connect/certs.",
    )
    oidc_staff_id_claim: str = Field(
        "preferred_username",
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="The claim of a provider's token that holds the staff directory's id.",
    )
    oidc_jwks_refresh_seconds: float = Field(
        30,
        ge=0,
        le=3600,
        description="The shortest interval between two fetches of the JWKS when a token names "
        "an unknown key id (so a flood of made-up key ids cannot hammer the provider).",
    )
    local_tokens: bool | None = Field(
        None,
        description="Accept Kurator's own staff tokens (HS256, `kurator token`). Unset: only "
        "while no identity provider is configured; once KURATOR_OIDC_* name one, its tokens "
        "alone, unless this is true (a test or staging stack that mixes both).",
    )
    pseudonym_secret: SecretStr | None = Field(
        None,
        description="Keys the hash that turns a family's registry id into its pseudonym; "
        "never change it once cases exist. Unset: `kurator dev` generates one.",
    )
    master_key_file: Path | None = Field(
        None,
        description="The master key file: `<key id> <base64 key>` per line, the current key "
        "first, retired ones after it. It wraps the families' data keys; PostgreSQL never "
        "holds it. Unset: `kurator dev` generates one.",
    )
    audit_anchor_log: Path | None = Field(
        None,
        description="The audit anchor log (JSON lines, append-only), outside the database: "
        "the worker appends a signed digest of every case chain's head to it on a schedule. "
        "Unset: no anchors (`kurator dev`: `audit-anchors.jsonl` in the data dir).",
    )
    audit_signing_key_file: Path | None = Field(
        None,
        description="The Ed25519 private key (PEM, mode 0600) that signs the audit anchors; "
        "PostgreSQL never holds it (`kurator audit new-signing-key`). Unset: no anchors "
        "(`kurator dev` generates one in the data dir).",
    )
    audit_anchor_interval_seconds: int = Field(
        3600,
        ge=60,
        le=7 * 24 * 3600,
        description="How often the worker's schedule writes an audit anchor.",
    )
    # NoDecode: a comma-separated list, not the JSON pydantic-settings expects of a list.
    codec_cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        ("http://127.0.0.1:8233", "http://localhost:8233"),
        description="Origins of the Temporal Web UI that may call the codec server "
        "(/api/v1/codec), with credentials: comma-separated, e.g. "
        "`https://temporal.example.org`. Default: the dev server's UI.",
    )
    case_policy: str = Field(
        "default", pattern=r"^[a-z0-9_-]{1,32}$", description="The policy new cases follow."
    )
    indicators_file: Path | None = Field(
        None,
        description="The indicator set reports show (TOML, as models/policy/indicators.toml); "
        "an unknown indicator id in it stops the process at start. Unset: the shipped set.",
    )
    allow_policy_override: bool = Field(
        False, description="Let an intake choose its policy (for demos; `kurator dev` sets it)."
    )
    # 10 s: a case whose worker was killed answers after the worker's sticky-queue timeout
    # (3 s, workers/worker.py) plus a replay of its history, so it still answers within this;
    # longer would keep a staff member waiting at the form when no worker runs at all.
    update_timeout_seconds: float = Field(
        10, gt=0, le=120, description="How long the API waits for a workflow to answer."
    )
    max_body_bytes: int = Field(
        256 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="The largest request body the API reads; larger ones get 413 unread. The "
        "largest real action (a plan of many items) is a few KiB.",
    )
    database_pool_size: int = Field(
        DEFAULT_DATABASE_POOL_SIZE,
        ge=1,
        le=200,
        description="PostgreSQL connections the API and each worker keep open for their "
        "requests and activities; more at once are opened for one use and closed after it.",
    )
    max_cached_workflows: int = Field(
        DEFAULT_MAX_CACHED_WORKFLOWS,
        ge=0,
        le=100_000,
        description="Cases a worker keeps in memory between their steps; a case outside it is "
        "replayed from its history first. 0 replays every step (debugging only).",
    )
    metrics_host: str = Field(
        "127.0.0.1", description="Address the worker's and the API's metrics endpoints listen on."
    )
    worker_metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Port of the worker's Prometheus endpoint (the Temporal SDK's metrics). "
        "Unset: none (`kurator dev` turns it on).",
    )
    api_metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Port of the API's Prometheus endpoint (requests by route and status). "
        "Unset: none (`kurator dev` turns it on).",
    )
    # Delivery of the notifications outbox (`kurator dispatch`, workers/dispatch.py).
    smtp_host: str | None = Field(
        None, description="SMTP server for e-mail notifications. Unset: the inbox channel only."
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP server port.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_ca_file: Path | None = Field(
        None, description="A private CA (PEM) the SMTP server's certificate is checked against."
    )
    smtp_username: str | None = Field(None, description="SMTP login (AUTH), if one is needed.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password for the login.")
    smtp_from: str = Field(
        "kurator@localhost", max_length=254, description="The From address of notifications."
    )
    smtp_timeout_seconds: float = Field(
        30, gt=0, le=600, description="How long one SMTP conversation may take."
    )
    templates_dir: Path | None = Field(
        None,
        description="The region's own message templates (`<kind>.txt`, as models/templates); "
        "a file missing there keeps the shipped one.",
    )
    case_link_base_url: str = Field(
        "http://127.0.0.1:8000/api/v1/cases",
        pattern=r"^https?://\S+$",
        description="Messages link a case as <this>/<case id>.",
    )
    delivery_max_attempts: int = Field(
        8, ge=1, le=100, description="Attempts before a delivery is dead-lettered."
    )
    delivery_retry_seconds: float = Field(
        30, gt=0, le=3600, description="The first retry's delay; each next one doubles."
    )
    delivery_retry_max_seconds: float = Field(
        3600, gt=0, le=86400, description="The longest delay between two attempts."
    )
    delivery_lease_seconds: float = Field(
        120,
        gt=0,
        le=3600,
        description="How long a claimed delivery is left to its dispatcher before another "
        "one takes it over (a dispatcher killed mid-send); keep it above the SMTP timeout.",
    )
    dispatch_poll_seconds: float = Field(
        1, gt=0, le=60, description="How often the dispatcher looks for new work."
    )
    dispatch_heartbeat_file: Path | None = Field(
        None,
        description="A file the dispatcher touches after each round that reached the "
        "database, for a health check (compose). Unset: none.",
    )
    dev_smtp_port: int = Field(
        8025, ge=1, le=65535, description="The SMTP catcher's port (`kurator dev` only)."
    )
    digest_hour: int = Field(
        8, ge=0, le=23, description="Local hour (UTC+7) of the daily digest to supervisors."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe level logged."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="`auto`: readable on a terminal, JSON lines otherwise."
    )

    @field_validator("database_url", "database_owner_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgresql+psycopg://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("oidc_jwks_url")
    @classmethod
    def _oidc_together(cls, value: str | None, info: ValidationInfo) -> str | None:
        given = {
            "OIDC_ISSUER": info.data.get("oidc_issuer"),
            "OIDC_AUDIENCE": info.data.get("oidc_audience"),
            "OIDC_JWKS_URL": value,
        }
        missing = [ENV_PREFIX + name for name, setting in given.items() if setting is None]
        if missing and len(missing) < len(given):
            raise ValueError(
                f"the identity provider's settings go together; missing {', '.join(missing)}"
            )
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s):// URL")
        return value

    @field_validator("local_tokens")
    @classmethod
    def _someone_can_sign_in(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value is False and info.data.get("oidc_issuer") is None:
            raise ValueError(
                "false refuses Kurator's own tokens, and no identity provider is configured "
                f"({ENV_PREFIX}OIDC_*): nobody could sign in"
            )
        return value

    @property
    def accepts_local_tokens(self) -> bool:
        """Whether HS256 staff tokens signed with the JWT secret are accepted: with an
        identity provider configured they would be a second way in, around it, so only when
        asked for."""
        if self.local_tokens is not None:
            return self.local_tokens
        return self.oidc_issuer is None

    @field_validator("smtp_host", "smtp_username", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Compose passes `${KURATOR_SMTP_HOST:-}` as an empty string when the host sets none.
        return None if value == "" else value

    @field_validator("codec_cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("codec_cors_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: scheme://host[:port], no path, no wildcard"
                )
        return value

    @field_validator("temporal_address")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value is None:
            return value
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, e.g. 127.0.0.1:7233")
        return value

    def require_database_url(self) -> str:
        """The database URL, for processes that cannot start an embedded server."""
        return _required(
            self.database_url, "DATABASE_URL", "or use `kurator dev`, which starts one"
        )

    def require_owner_database_url(self) -> str:
        """The URL migrations run with: the owner's, else the application's."""
        return self.database_owner_url or self.require_database_url()

    def require_secret(self, name: Literal["jwt_secret", "pseudonym_secret"]) -> bytes:
        """A secret as bytes, for processes that cannot generate one."""
        value: SecretStr | None = getattr(self, name)
        if value is None or len(value.get_secret_value()) < 32:
            raise SettingsError(
                f"{ENV_PREFIX}{name.upper()} must be set to at least 32 characters "
                "(or use `kurator dev`, which generates one)"
            )
        return value.get_secret_value().encode()

    def require_master_key_file(self) -> Path:
        """The master key file, for processes that cannot generate one."""
        return _required(
            self.master_key_file, "MASTER_KEY_FILE", "or use `kurator dev`, which generates one"
        )

    def require_audit_signing_key_file(self) -> Path:
        """The anchors' signing key file, for processes that sign or verify anchors."""
        return _required(
            self.audit_signing_key_file,
            "AUDIT_SIGNING_KEY_FILE",
            "`kurator audit new-signing-key --out FILE` writes one",
        )

    def require_audit_anchor_log(self) -> Path:
        """The anchor log, for processes that write or verify anchors."""
        return _required(self.audit_anchor_log, "AUDIT_ANCHOR_LOG")

    def require_temporal_address(self) -> str:
        """The Temporal address, for processes that cannot start an embedded server."""
        return _required(
            self.temporal_address, "TEMPORAL_ADDRESS", "or use `kurator dev`, which starts one"
        )


_T = TypeVar("_T")


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it."""


def _required(value: _T | None, setting: str, hint: str | None = None) -> _T:
    """`value`, or the SettingsError naming the unset `setting` (and what to do, `hint`)."""
    if value is None:
        advice = f" ({hint})" if hint else ""
        raise SettingsError(f"{ENV_PREFIX}{setting} is not set{advice}")
    return value


def describe_validation_error(error: ValidationError) -> str:
    """One line per invalid setting, named as the environment variable the user sets."""
    lines = []
    for problem in error.errors():
        name = ENV_PREFIX + "_".join(str(part) for part in problem["loc"]).upper()
        lines.append(f"invalid setting {name}: {problem['msg']}")
    return "; ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Raises `SettingsError` naming any invalid value."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
