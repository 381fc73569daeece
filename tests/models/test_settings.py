"""Settings: defaults, and invalid values named the way the user sets them."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.settings import Settings, SettingsError, get_settings


@pytest.fixture
def fresh_settings() -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("KURATOR_"):
                patch.delenv(name)
        yield patch
    get_settings.cache_clear()


def test_defaults_need_no_environment(fresh_settings: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    assert settings.api_port == 8000
    assert settings.temporal_ui_port == 8233
    assert settings.database_url is None
    assert str(settings.data_dir) == ".kurator"
    # Metrics are served only where asked for (`kurator dev` asks).
    assert (settings.worker_metrics_port, settings.api_metrics_port) == (None, None)


def test_settings_are_read_once(fresh_settings: pytest.MonkeyPatch) -> None:
    first = get_settings()
    fresh_settings.setenv("KURATOR_API_PORT", "9000")
    assert get_settings() is first


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("KURATOR_API_PORT", "99999", "less than or equal to 65535"),
        ("KURATOR_API_PORT", "eight", "valid integer"),
        ("KURATOR_DATABASE_URL", "mysql://db/kurator", "postgresql://"),
        ("KURATOR_TEMPORAL_ADDRESS", "localhost", "host:port"),
        ("KURATOR_LOG_LEVEL", "LOUD", "DEBUG"),
        ("KURATOR_WORKER_METRICS_PORT", "0", "greater than or equal to 1"),
        ("KURATOR_API_METRICS_PORT", "65536", "less than or equal to 65535"),
        ("KURATOR_MAX_CACHED_WORKFLOWS", "-1", "greater than or equal to 0"),
        ("KURATOR_MAX_CACHED_WORKFLOWS", "lots", "valid integer"),
        ("KURATOR_DATABASE_POOL_SIZE", "0", "greater than or equal to 1"),
        ("KURATOR_DATABASE_POOL_SIZE", "201", "less than or equal to 200"),
    ],
)
def test_invalid_value_is_named(
    fresh_settings: pytest.MonkeyPatch, variable: str, value: str, complaint: str
) -> None:
    fresh_settings.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        get_settings()
    assert f"invalid setting {variable}" in str(raised.value)
    assert complaint in str(raised.value)


def test_every_setting_is_in_the_readme_table() -> None:
    """The README's settings table is where operators look: a setting missing from it is
    one they cannot find."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1] for line in readme.splitlines() if line.startswith("| `KURATOR_")}
    documented = " ".join(rows)
    missing = [
        f"KURATOR_{name.upper()}"
        for name in Settings.model_fields
        if f"`KURATOR_{name.upper()}`" not in documented
    ]
    assert missing == []


def test_the_worker_cache_is_set_from_the_environment(fresh_settings: pytest.MonkeyPatch) -> None:
    assert get_settings().max_cached_workflows == 1000
    get_settings.cache_clear()
    fresh_settings.setenv("KURATOR_MAX_CACHED_WORKFLOWS", "250")
    assert get_settings().max_cached_workflows == 250


def test_processes_that_need_servers_say_which_setting_is_missing() -> None:
    settings = Settings(database_url=None, temporal_address=None)
    with pytest.raises(SettingsError, match="KURATOR_DATABASE_URL is not set"):
        settings.require_database_url()
    with pytest.raises(SettingsError, match="KURATOR_TEMPORAL_ADDRESS is not set"):
        settings.require_temporal_address()


@pytest.mark.parametrize(
    ("command", "environment", "named"),
    [
        ("worker", {"KURATOR_API_PORT": "0x"}, "invalid setting KURATOR_API_PORT"),
        ("migrate", {}, "KURATOR_DATABASE_URL is not set"),
        ("api", {"KURATOR_DATABASE_URL": "postgresql://x/y"}, "KURATOR_TEMPORAL_ADDRESS is not"),
    ],
)
def test_cli_stops_with_status_2_naming_the_setting(
    command: str, environment: dict[str, str], named: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KURATOR_")}
    result = subprocess.run(
        [sys.executable, "-m", "workers.cli", command],
        env={**env, **environment, "KURATOR_LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert named in result.stderr


def test_the_identity_provider_settings_go_together(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("KURATOR_OIDC_ISSUER", "https://sso.example.org/realms/kurator")
    with pytest.raises(SettingsError) as refused:
        get_settings()
    message = str(refused.value)
    assert "KURATOR_OIDC_JWKS_URL" in message
    assert "KURATOR_OIDC_AUDIENCE" in message
    get_settings.cache_clear()
    fresh_settings.setenv("KURATOR_OIDC_AUDIENCE", "kurator-api")
    fresh_settings.setenv("KURATOR_OIDC_JWKS_URL", "https://sso.example.org/certs")
    settings = get_settings()
    assert settings.oidc_staff_id_claim == "preferred_username"
    assert settings.oidc_jwks_refresh_seconds == 30
    # With a provider, its tokens alone, unless Kurator's own are asked for.
    assert settings.accepts_local_tokens is False
    get_settings.cache_clear()
    fresh_settings.setenv("KURATOR_LOCAL_TOKENS", "true")
    assert get_settings().accepts_local_tokens is True


def test_refusing_local_tokens_without_a_provider_is_refused(
    fresh_settings: pytest.MonkeyPatch,
) -> None:
    assert get_settings().accepts_local_tokens is True
    get_settings.cache_clear()
    fresh_settings.setenv("KURATOR_LOCAL_TOKENS", "false")
    with pytest.raises(SettingsError) as refused:
        get_settings()
    assert "KURATOR_LOCAL_TOKENS" in str(refused.value)
    assert "nobody could sign in" in str(refused.value)
