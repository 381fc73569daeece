"""docker-compose.yml, checked without Docker.

The file is validated against the Compose Specification's JSON schema (the copy that the
`check-jsonschema` package ships, so nothing is downloaded) and then against Kurator's own
rules: start order through health checks and completed one-shot jobs, required secrets, pinned
images, and the search attributes registered equal to `ALL_SEARCH_ATTRIBUTES`. Each rule is a
function returning its problems, and each is also shown to catch a broken copy of the file.
"""

import copy
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from temporalio.common import SearchAttributeIndexedValueType

from workflows.search_attributes import ALL_SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"

Compose = dict[str, Any]
Rule = Callable[[Compose], list[str]]

# Values that are secrets: each must be exactly a required variable, `${NAME:?message}`.
SECRET_KEYS = frozenset(
    {
        "POSTGRES_PASSWORD",
        "TEMPORAL_DB_PASSWORD",
        "KURATOR_DB_PASSWORD",
        "KURATOR_APP_DB_PASSWORD",
        "POSTGRES_PWD",
        "SQL_PASSWORD",
        "KURATOR_JWT_SECRET",
        "KURATOR_PSEUDONYM_SECRET",
    }
)
REQUIRED_VARIABLE = re.compile(r"\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}")
# Every `$` in the file: `$$` (a literal dollar) or a variable Compose knows how to expand.
INTERPOLATION = re.compile(r"\$(?:\$|[A-Za-z_]\w*|\{[A-Za-z_]\w*(?::?[-?+][^}]*)?\})")
HEALTH_CONDITIONS = {"service_healthy", "service_completed_successfully"}
NAMESPACE_SERVICE = "temporal-namespace"


def load(text: str) -> Compose:
    loaded = YAML(typ="safe").load(text)
    assert isinstance(loaded, dict), "a compose file is a mapping"
    return loaded


@pytest.fixture(scope="module")
def compose() -> Compose:
    return load(COMPOSE_FILE.read_text())


def services(compose: Compose) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    return found if isinstance(found, dict) else {}


def dependencies(service: dict[str, Any]) -> dict[str, Any]:
    """`depends_on` as a mapping; the short list form has no conditions, so maps to None."""
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        return dict.fromkeys(depends_on)
    return dict(depends_on)


def one_shot_services(compose: Compose) -> set[str]:
    """Services run to completion: `restart: "no"`, and others wait for them to finish."""
    return {name for name, service in services(compose).items() if service.get("restart") == "no"}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with the Compose Specification schema it ships (no network)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- Kurator's rules; each returns what it found wrong ---------------------------------------


def dependencies_wait_for_health_or_completion(compose: Compose) -> list[str]:
    problems = []
    all_services = services(compose)
    one_shot = one_shot_services(compose)
    for name, service in all_services.items():
        for target, spec in dependencies(service).items():
            condition = spec.get("condition") if isinstance(spec, dict) else None
            if target not in all_services:
                problems.append(f"{name} depends on {target}, which is not a service")
            elif condition not in HEALTH_CONDITIONS:
                problems.append(f"{name} depends on {target} without waiting ({condition})")
            elif condition == "service_completed_successfully" and target not in one_shot:
                problems.append(f"{name} waits for {target} to complete, which restarts")
            elif condition == "service_healthy" and "healthcheck" not in all_services[target]:
                problems.append(f"{name} waits for {target} to be healthy; it has no healthcheck")
    return problems


def long_running_services_have_healthchecks(compose: Compose) -> list[str]:
    one_shot = one_shot_services(compose)
    problems = []
    for name, service in services(compose).items():
        if name in one_shot:
            continue
        check = service.get("healthcheck") or {}
        if check.get("disable") or not check.get("test"):
            problems.append(f"{name} runs on but has no healthcheck")
        if service.get("restart") not in {"always", "unless-stopped"}:
            problems.append(f"{name} runs on but is not restarted ({service.get('restart')})")
    return problems


def secrets_are_required_variables(compose: Compose) -> list[str]:
    problems = []
    for name, service in services(compose).items():
        for key, value in environment(service).items():
            if key in SECRET_KEYS and not REQUIRED_VARIABLE.fullmatch(value):
                problems.append(f"{name}: {key} is not a required ${{VAR:?...}} variable")
            if key.endswith("_URL") and "@" in value and not REQUIRED_VARIABLE.search(value):
                problems.append(f"{name}: {key} carries a password that is not a variable")
    api_environment = environment(services(compose).get("kurator-api", {}))
    for secret in ("KURATOR_JWT_SECRET", "KURATOR_PSEUDONYM_SECRET"):
        if secret not in api_environment:
            problems.append(f"kurator-api has no {secret}")
    return problems


def images_are_pinned(compose: Compose) -> list[str]:
    problems = []
    for name, service in services(compose).items():
        image = str(service.get("image", ""))
        if "build" in service:
            continue  # Kurator's own image, built from the Dockerfile
        repository, _, tag = image.rpartition(":")
        if not repository or not tag or tag == "latest" or "$" in tag:
            problems.append(f"{name}: image {image!r} is not pinned to a version tag")
        if repository.startswith("temporalio/auto-setup"):
            problems.append(f"{name}: temporalio/auto-setup is deprecated; use admin-tools")
    return problems


def kurator_waits_for_migration_and_namespace(compose: Compose) -> list[str]:
    problems = []
    namespace = environment(services(compose).get(NAMESPACE_SERVICE, {})).get("KURATOR_NAMESPACE")
    for name in ("kurator-worker", "kurator-api"):
        service = services(compose).get(name, {})
        waits_for = dependencies(service)
        for job in ("kurator-migrate", NAMESPACE_SERVICE):
            if job not in waits_for:
                problems.append(f"{name} starts without waiting for {job}")
        if environment(service).get("KURATOR_TEMPORAL_NAMESPACE") != namespace:
            problems.append(f"{name} uses another namespace than the one created ({namespace})")
    return problems


def cli_type(indexed_value_type: SearchAttributeIndexedValueType) -> str:
    """The `temporal` CLI's name of a type: KEYWORD_LIST -> KeywordList."""
    return "".join(part.capitalize() for part in indexed_value_type.name.split("_"))


def registers_kurator_search_attributes(compose: Compose) -> list[str]:
    listed = environment(services(compose).get(NAMESPACE_SERVICE, {})).get(
        "KURATOR_SEARCH_ATTRIBUTES", ""
    )
    registered = sorted(tuple(pair.split("=", 1)) for pair in listed.split())
    expected = sorted((key.name, cli_type(key.indexed_value_type)) for key in ALL_SEARCH_ATTRIBUTES)
    if registered != expected:
        return [f"{NAMESPACE_SERVICE} registers {registered}, the workflows use {expected}"]
    return []


def mounted_files_exist(compose: Compose) -> list[str]:
    problems = []
    for name, service in services(compose).items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith(".") and not (ROOT / source).exists():
                problems.append(f"{name} mounts {source}, which does not exist")
    return problems


METRICS_PORTS = {
    "kurator-worker": "KURATOR_WORKER_METRICS_PORT",
    "kurator-api": "KURATOR_API_METRICS_PORT",
}


def metrics_are_exposed_not_published(compose: Compose) -> list[str]:
    """Each Kurator process serves metrics on the port its setting names, exposed to the
    compose network and labelled for discovery, but never published on the host (they are not
    authenticated)."""
    problems = []
    for name, setting in METRICS_PORTS.items():
        service = services(compose).get(name, {})
        port = environment(service).get(setting)
        if port is None:
            problems.append(f"{name} sets no {setting}")
            continue
        if port not in [str(exposed) for exposed in service.get("expose", [])]:
            problems.append(f"{name} does not expose its metrics port {port}")
        if (service.get("labels") or {}).get("prometheus.io/port") != port:
            problems.append(f"{name}'s prometheus.io/port label is not {port}")
        published = [str(mapping) for mapping in service.get("ports", [])]
        if any(mapping.rsplit(":", 1)[-1] == port for mapping in published):
            problems.append(f"{name} publishes its metrics port {port} on the host")
        if environment(service).get("KURATOR_METRICS_HOST") != "0.0.0.0":
            problems.append(f"{name}'s metrics listen on the container's loopback only")
    return problems


KURATOR_SERVICES = ("kurator-migrate", "kurator-worker", "kurator-api")
MASTER_KEY_SECRET = "kurator-master-keys"


def master_key_is_a_mounted_secret(compose: Compose) -> list[str]:
    """The master key reaches Kurator's processes as a file mounted from a compose secret
    (never an environment value, never a volume PostgreSQL's backups could include), and the
    secret's file on the host is a required variable."""
    problems = []
    secret = (compose.get("secrets") or {}).get(MASTER_KEY_SECRET)
    if secret is None:
        problems.append(f"no top-level secret {MASTER_KEY_SECRET}")
    elif not REQUIRED_VARIABLE.fullmatch(str(secret.get("file", ""))):
        problems.append(f"secret {MASTER_KEY_SECRET}'s file is not a required ${{VAR:?...}}")
    for name in KURATOR_SERVICES:
        service = services(compose).get(name, {})
        if MASTER_KEY_SECRET not in service.get("secrets", []):
            problems.append(f"{name} does not mount {MASTER_KEY_SECRET}")
        if (
            environment(service).get("KURATOR_MASTER_KEY_FILE")
            != f"/run/secrets/{MASTER_KEY_SECRET}"
        ):
            problems.append(f"{name}'s KURATOR_MASTER_KEY_FILE is not the mounted secret")
    return problems


SIGNING_KEY_SECRET = "kurator-audit-signing-key"
ANCHOR_LOG_FOLDER = "/var/lib/kurator/audit"


def worker_signs_anchors_into_a_volume(compose: Compose) -> list[str]:
    """The worker has the anchors' signing key as a mounted secret (a required variable's
    file) and writes the anchor log to a named volume of its own, not PostgreSQL's."""
    problems = []
    secret = (compose.get("secrets") or {}).get(SIGNING_KEY_SECRET)
    if secret is None or not REQUIRED_VARIABLE.fullmatch(str(secret.get("file", ""))):
        problems.append(f"secret {SIGNING_KEY_SECRET}'s file is not a required ${{VAR:?...}}")
    worker = services(compose).get("kurator-worker", {})
    env = environment(worker)
    if SIGNING_KEY_SECRET not in worker.get("secrets", []):
        problems.append(f"kurator-worker does not mount {SIGNING_KEY_SECRET}")
    if env.get("KURATOR_AUDIT_SIGNING_KEY_FILE") != f"/run/secrets/{SIGNING_KEY_SECRET}":
        problems.append("kurator-worker's KURATOR_AUDIT_SIGNING_KEY_FILE is not the secret")
    mounts = {
        str(volume).split(":")[1]: str(volume).split(":")[0] for volume in worker.get("volumes", [])
    }
    source = mounts.get(ANCHOR_LOG_FOLDER)
    if source is None or source not in (compose.get("volumes") or {}) or source == "postgres-data":
        problems.append(f"kurator-worker has no volume of its own at {ANCHOR_LOG_FOLDER}")
    if not env.get("KURATOR_AUDIT_ANCHOR_LOG", "").startswith(ANCHOR_LOG_FOLDER + "/"):
        problems.append(f"kurator-worker's KURATOR_AUDIT_ANCHOR_LOG is not in {ANCHOR_LOG_FOLDER}")
    return problems


RULES: list[Rule] = [
    dependencies_wait_for_health_or_completion,
    long_running_services_have_healthchecks,
    secrets_are_required_variables,
    images_are_pinned,
    kurator_waits_for_migration_and_namespace,
    registers_kurator_search_attributes,
    mounted_files_exist,
    metrics_are_exposed_not_published,
    master_key_is_a_mounted_secret,
    worker_signs_anchors_into_a_volume,
]


# --- the file as it is ------------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification() -> None:
    result = schema_check(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_variable_reference_is_well_formed() -> None:
    text = COMPOSE_FILE.read_text()
    dollars = text.count("$")
    well_formed = sum(match.group(0).count("$") for match in INTERPOLATION.finditer(text))
    assert dollars == well_formed, "a `$` that is neither `$$` nor a valid ${VARIABLE...}"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_compose_file_keeps_the_rule(compose: Compose, rule: Rule) -> None:
    assert rule(compose) == []


# --- the checks catch a broken file -----------------------------------------------------------


def test_schema_check_rejects_a_misspelled_key(tmp_path: Path) -> None:
    text = COMPOSE_FILE.read_text()
    assert "    healthcheck:\n" in text
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace("    healthcheck:\n", "    healtcheck:\n", 1))
    result = schema_check(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "healtcheck" in result.stdout + result.stderr


def test_schema_check_rejects_a_wrong_condition(tmp_path: Path) -> None:
    text = COMPOSE_FILE.read_text()
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace("condition: service_healthy", "condition: healthy", 1))
    assert schema_check(broken).returncode == 1


def test_a_bad_variable_reference_is_caught() -> None:
    broken = "password: ${TEMPORAL_DB_PASSWORD:?unset}x $(whoami) ${BROKEN"
    assert sum(m.group(0).count("$") for m in INTERPOLATION.finditer(broken)) < broken.count("$")


def breakages() -> Iterator[tuple[str, Callable[[Compose], None], Rule]]:
    """(name, how to break the file, the rule that must notice)."""

    def plain_depends_on(c: Compose) -> None:
        c["services"]["kurator-api"]["depends_on"] = ["kurator-migrate"]

    def started_not_healthy(c: Compose) -> None:
        c["services"]["temporal-ui"]["depends_on"] = {"temporal": {"condition": "service_started"}}

    def completion_of_a_server(c: Compose) -> None:
        c["services"]["kurator-api"]["depends_on"]["postgresql"] = {
            "condition": "service_completed_successfully"
        }

    def unknown_dependency(c: Compose) -> None:
        c["services"]["kurator-api"]["depends_on"]["redis"] = {"condition": "service_healthy"}

    def no_healthcheck(c: Compose) -> None:
        del c["services"]["temporal"]["healthcheck"]

    def literal_password(c: Compose) -> None:
        c["services"]["temporal"]["environment"]["POSTGRES_PWD"] = "temporal"

    def defaulted_secret(c: Compose) -> None:
        c["services"]["kurator-api"]["environment"]["KURATOR_JWT_SECRET"] = "${JWT:-changeme}"

    def master_key_in_the_environment(c: Compose) -> None:
        c["services"]["kurator-worker"]["environment"]["KURATOR_MASTER_KEY_FILE"] = "/data/keys"

    def master_key_not_mounted(c: Compose) -> None:
        c["services"]["kurator-api"]["secrets"] = []

    def anchors_in_the_database_volume(c: Compose) -> None:
        c["services"]["kurator-worker"]["volumes"] = ["postgres-data:/var/lib/kurator/audit"]

    def signing_key_not_mounted(c: Compose) -> None:
        c["services"]["kurator-worker"]["secrets"] = ["kurator-master-keys"]

    def auto_setup(c: Compose) -> None:
        c["services"]["temporal"]["image"] = "temporalio/auto-setup:1.29.0"

    def unpinned(c: Compose) -> None:
        c["services"]["temporal-ui"]["image"] = "temporalio/ui:latest"

    def missing_attribute(c: Compose) -> None:
        env = c["services"][NAMESPACE_SERVICE]["environment"]
        env["KURATOR_SEARCH_ATTRIBUTES"] = env["KURATOR_SEARCH_ATTRIBUTES"].replace(
            "Overdue=Bool", ""
        )

    def wrong_attribute_type(c: Compose) -> None:
        env = c["services"][NAMESPACE_SERVICE]["environment"]
        env["KURATOR_SEARCH_ATTRIBUTES"] = env["KURATOR_SEARCH_ATTRIBUTES"].replace(
            "EscalationLevel=Int", "EscalationLevel=Keyword"
        )

    def duplicated_attribute(c: Compose) -> None:
        c["services"][NAMESPACE_SERVICE]["environment"]["KURATOR_SEARCH_ATTRIBUTES"] += (
            " Curator=Keyword"
        )

    def worker_skips_migration(c: Compose) -> None:
        del c["services"]["kurator-worker"]["depends_on"]["kurator-migrate"]

    def other_namespace(c: Compose) -> None:
        c["services"]["kurator-worker"]["environment"] = {
            **c["services"]["kurator-worker"]["environment"],
            "KURATOR_TEMPORAL_NAMESPACE": "default",
        }

    def missing_script(c: Compose) -> None:
        c["services"]["temporal-schema"]["volumes"] = ["./deploy/nowhere.sh:/deploy/x.sh:ro"]

    def published_metrics(c: Compose) -> None:
        c["services"]["kurator-api"]["ports"] = [*c["services"]["kurator-api"]["ports"], "9465"]

    def unlabelled_metrics(c: Compose) -> None:
        del c["services"]["kurator-worker"]["labels"]

    def metrics_on_another_port(c: Compose) -> None:
        c["services"]["kurator-worker"]["environment"]["KURATOR_WORKER_METRICS_PORT"] = "9999"

    yield "published metrics", published_metrics, metrics_are_exposed_not_published
    yield "unlabelled metrics", unlabelled_metrics, metrics_are_exposed_not_published
    yield "metrics on another port", metrics_on_another_port, metrics_are_exposed_not_published
    yield "plain depends_on", plain_depends_on, dependencies_wait_for_health_or_completion
    yield "service_started", started_not_healthy, dependencies_wait_for_health_or_completion
    yield (
        "completion of a server",
        completion_of_a_server,
        (dependencies_wait_for_health_or_completion),
    )
    yield "unknown dependency", unknown_dependency, dependencies_wait_for_health_or_completion
    yield "no healthcheck", no_healthcheck, long_running_services_have_healthchecks
    yield "literal password", literal_password, secrets_are_required_variables
    yield "defaulted secret", defaulted_secret, secrets_are_required_variables
    yield (
        "master key in the environment",
        master_key_in_the_environment,
        master_key_is_a_mounted_secret,
    )
    yield "master key not mounted", master_key_not_mounted, master_key_is_a_mounted_secret
    yield (
        "anchors in the database volume",
        anchors_in_the_database_volume,
        worker_signs_anchors_into_a_volume,
    )
    yield "signing key not mounted", signing_key_not_mounted, worker_signs_anchors_into_a_volume
    yield "auto-setup image", auto_setup, images_are_pinned
    yield "unpinned image", unpinned, images_are_pinned
    yield "missing attribute", missing_attribute, registers_kurator_search_attributes
    yield "wrong attribute type", wrong_attribute_type, registers_kurator_search_attributes
    yield "duplicated attribute", duplicated_attribute, registers_kurator_search_attributes
    yield (
        "worker skips migration",
        worker_skips_migration,
        kurator_waits_for_migration_and_namespace,
    )
    yield "other namespace", other_namespace, kurator_waits_for_migration_and_namespace
    yield "missing script", missing_script, mounted_files_exist


@pytest.mark.parametrize(
    ("breakage", "rule"),
    [(b, r) for _, b, r in breakages()],
    ids=[name for name, _, _ in breakages()],
)
def test_rule_catches_a_broken_copy(
    compose: Compose, breakage: Callable[[Compose], None], rule: Rule
) -> None:
    broken = copy.deepcopy(compose)
    breakage(broken)
    assert rule(broken) != []
