"""`kurator dev`: the whole stack on one machine, on embedded defaults.

Starts, in order: PostgreSQL (embedded, unless KURATOR_DATABASE_URL is set) with the Kurator
database migrated to head; the Temporal dev server with its Web UI (unless
KURATOR_TEMPORAL_ADDRESS is set); an SMTP catcher (unless KURATOR_SMTP_HOST is set); the
worker; the API; the dispatcher. Stops them in reverse order on Ctrl-C
or SIGTERM, and when anything fails to start, saying which component and why.
"""

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from temporalio.converter import DataConverter
from temporalio.service import RPCError

from api.codec_caller import CODEC_PREFIX
from infra.db_roles import ensure_app_login, url_as
from infra.logs import get_logger
from infra.metrics import bind_address
from infra.migrate import upgrade_to_head
from infra.temporal_client import connect_temporal
from models.settings import Settings
from workers.devstack.dev_database import DATABASE_NAME
from workers.devstack.dev_staff import seed_dev_staff
from workers.devstack.embedded_postgres import (
    EmbeddedPostgres,
    EmbeddedPostgresError,
    ensure_database,
)
from workers.devstack.mail_catcher import MailCatcher
from workers.devstack.processes import Child, port_problem, spawn
from workers.devstack.secrets import dev_secrets
from workers.devstack.temporal_dev import dev_server_command, register_missing_search_attributes

log = get_logger(__name__)

STARTUP_TIMEOUT_SECONDS = 60
# The API and the worker log in as this member of `kurator_app` (trust auth on the local socket).
DEV_APP_LOGIN = "kurator_service"
# `kurator dev` serves metrics unless told other ports: 9464 is the port OpenTelemetry's
# Prometheus exporter uses by default, and the API's sits beside it.
DEV_WORKER_METRICS_PORT = 9464
DEV_API_METRICS_PORT = 9465
# The audit anchors' log, beside the data it anchors (in production: outside the database's
# host and backups).
DEV_ANCHOR_LOG = "audit-anchors.jsonl"
# The Maildir beside the data where the local SMTP catcher keeps what it caught.
DEV_MAILDIR = "mail"


class StartupError(Exception):
    """A component did not start; the message names it and says why."""


@dataclass
class DevStack:
    settings: Settings
    postgres: EmbeddedPostgres | None = None
    mail_catcher: MailCatcher | None = None
    children: list[Child] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir.resolve()

    @property
    def api_url(self) -> str:
        """The API as a browser on this machine reaches it."""
        host = self.settings.api_host
        if host in ("0.0.0.0", "::", ""):  # every interface: loopback among them
            host = "127.0.0.1"
        return f"http://{host}:{self.settings.api_port}"

    @property
    def codec_endpoint(self) -> str:
        return f"{self.api_url}{CODEC_PREFIX}"

    @property
    def metrics_ports(self) -> dict[str, tuple[str, int]]:
        """Setting name -> (component, port) of the worker's and the API's metrics."""
        return {
            "KURATOR_WORKER_METRICS_PORT": (
                "Worker metrics",
                self.settings.worker_metrics_port or DEV_WORKER_METRICS_PORT,
            ),
            "KURATOR_API_METRICS_PORT": (
                "API metrics",
                self.settings.api_metrics_port or DEV_API_METRICS_PORT,
            ),
        }

    async def run(self) -> int:
        """Run until a stop signal (exit 0) or a component failure (exit 1)."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        started = time.monotonic()
        try:
            env = await self._start_all()
            await self._wait_until_healthy()
            self._announce(env, time.monotonic() - started)
            failed = await self._watch(stop)
            return 1 if failed else 0
        except StartupError as error:
            log.error("kurator dev could not start", problem=str(error))
            return 1
        finally:
            await self._stop_all()

    async def _start_all(self) -> dict[str, str]:
        self._check_ports()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        # Generated once and kept in the data dir; variables the user set win.
        for name, value in dev_secrets(self.data_dir).items():
            env.setdefault(name, value)
        env.setdefault("KURATOR_AUDIT_ANCHOR_LOG", str(self.data_dir / DEV_ANCHOR_LOG))
        # Lets `kurator demo` run its cases on the compressed-time policy.
        env.setdefault("KURATOR_ALLOW_POLICY_OVERRIDE", "true")
        # Messages link the cases on this stack's API, whatever its port.
        env.setdefault("KURATOR_CASE_LINK_BASE_URL", f"{self.api_url}/api/v1/cases")
        env.update({name: str(port) for name, (_, port) in self.metrics_ports.items()})
        if self.settings.temporal_address is None:
            # The dev server's UI calls the codec server from its own origin.
            ui_port = self.settings.temporal_ui_port
            env.setdefault(
                "KURATOR_CODEC_CORS_ORIGINS",
                f"http://127.0.0.1:{ui_port},http://localhost:{ui_port}",
            )
        env["KURATOR_DATABASE_OWNER_URL"], env["KURATOR_DATABASE_URL"] = await asyncio.to_thread(
            self._start_database, Path(env["KURATOR_MASTER_KEY_FILE"])
        )
        try:
            await seed_dev_staff(env["KURATOR_DATABASE_URL"])
        except Exception as error:  # the database or the file: report, then stop
            raise StartupError(f"staff directory: {type(error).__name__}: {error}") from None
        env["KURATOR_TEMPORAL_ADDRESS"] = await self._start_temporal(env)
        await self._start_mail_catcher(env)
        command = [sys.executable, "-m", "workers.cli"]
        self.children.append(await spawn("worker", [*command, "worker"], env=env))
        self.children.append(await spawn("api", [*command, "api"], env=env))
        self.children.append(await spawn("dispatch", [*command, "dispatch"], env=env))
        return env

    def _check_ports(self) -> None:
        wanted = [("API", self.settings.api_host, self.settings.api_port, "KURATOR_API_PORT")]
        wanted += [
            (component, self.settings.metrics_host, port, name)
            for name, (component, port) in self.metrics_ports.items()
        ]
        if self.settings.smtp_host is None:
            smtp = (
                "SMTP catcher",
                "127.0.0.1",
                self.settings.dev_smtp_port,
                "KURATOR_DEV_SMTP_PORT",
            )
            wanted.append(smtp)
        if self.settings.temporal_address is None:
            wanted += [
                ("Temporal", "127.0.0.1", self.settings.temporal_port, "KURATOR_TEMPORAL_PORT"),
                (
                    "Temporal UI",
                    "127.0.0.1",
                    self.settings.temporal_ui_port,
                    "KURATOR_TEMPORAL_UI_PORT",
                ),
            ]
        for component, host, port, setting in wanted:
            problem = port_problem(host, port)
            if problem is not None:
                raise StartupError(
                    f"{component}: port {port} on {host} is not free ({problem}); "
                    f"stop what uses it or set {setting}"
                )

    def _start_database(self, master_key_file: Path) -> tuple[str, str]:
        """The owner's URL, migrated, and the application's (a login of `kurator_app`)."""
        if self.settings.database_url is not None:
            url = self.settings.database_owner_url or self.settings.database_url
            log.info("using PostgreSQL from KURATOR_DATABASE_URL")
        else:
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
            try:
                url = ensure_database(self.postgres.start(), DATABASE_NAME)
            except (EmbeddedPostgresError, OSError) as error:
                raise StartupError(f"PostgreSQL: {error}") from None
            log.info(
                "embedded PostgreSQL started",
                data=str(self.postgres.pgdata),
                # As root, from a directory its service user cannot enter: where it runs now.
                running_from=str(self.postgres.data_dir),
            )
        app_url = self.settings.database_url or url_as(url, DEV_APP_LOGIN)
        try:
            upgrade_to_head(url, master_key_file=master_key_file)
            ensure_app_login(url, app_url)
        except Exception as error:  # alembic and driver errors alike: report, then stop
            raise StartupError(f"PostgreSQL migrations: {type(error).__name__}: {error}") from None
        return url, app_url

    async def _start_mail_catcher(self, env: dict[str, str]) -> None:
        """Catch the dispatcher's e-mails on 127.0.0.1, unless an SMTP server is set."""
        if self.settings.smtp_host is not None:
            log.info("e-mail goes to KURATOR_SMTP_HOST", host=self.settings.smtp_host)
            return
        port = self.settings.dev_smtp_port
        catcher = MailCatcher(port=port, maildir=self.data_dir / DEV_MAILDIR)
        try:
            self.mail_catcher = await catcher.start()
        except OSError as error:
            raise StartupError(f"SMTP catcher: {error}") from None
        env["KURATOR_SMTP_HOST"], env["KURATOR_SMTP_PORT"] = "127.0.0.1", str(port)

    async def _start_temporal(self, env: dict[str, str]) -> str:
        if self.settings.temporal_address is not None:
            log.info("using Temporal from KURATOR_TEMPORAL_ADDRESS")
            return self.settings.temporal_address
        command = dev_server_command(
            port=self.settings.temporal_port,
            ui_port=self.settings.temporal_ui_port,
            db_file=self.data_dir / "temporal.sqlite",
            namespace=self.settings.temporal_namespace,
            codec_endpoint=self.codec_endpoint,
        )
        server = await spawn("temporal", command, env=env, log_file=self.data_dir / "temporal.log")
        self.children.append(server)
        address = f"127.0.0.1:{self.settings.temporal_port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if server.exited():
                raise StartupError(
                    f"Temporal dev server exited with status {server.process.returncode}: "
                    f"{server.log_tail()}"
                )
            try:
                # A health check only: no payloads, nothing to seal.
                client = await connect_temporal(
                    address, self.settings.temporal_namespace, data_converter=DataConverter.default
                )
                await client.service_client.check_health()
                added = await register_missing_search_attributes(client)
                if added:
                    log.info("search attributes registered", names=added)
                log.info("Temporal dev server started", address=address)
                return address
            except (RuntimeError, RPCError):  # not serving yet, or its namespace not yet ready
                await asyncio.sleep(0.25)
        raise StartupError(f"Temporal dev server did not answer on {address} in time")

    async def _wait_until_healthy(self) -> None:
        url = f"http://{self.settings.api_host}:{self.settings.api_port}/health"
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        last = "no answer"
        async with httpx.AsyncClient(timeout=5) as http:
            while time.monotonic() < deadline:
                for child in self.children:
                    if child.exited():
                        raise StartupError(
                            f"{child.name} exited with status {child.process.returncode} "
                            "during start-up (its log is above)"
                        )
                try:
                    response = await http.get(url)
                    if response.status_code == 200:
                        return
                    last = response.text
                except httpx.TransportError as error:
                    last = type(error).__name__
                await asyncio.sleep(0.5)
        raise StartupError(f"/health did not answer 200 in {STARTUP_TIMEOUT_SECONDS}s: {last}")

    def _announce(self, env: dict[str, str], seconds: float) -> None:
        api = self.api_url
        ui = (
            f"http://127.0.0.1:{self.settings.temporal_ui_port}"
            if self.settings.temporal_address is None
            else "(your Temporal's own UI)"
        )
        worker_metrics, api_metrics = (
            f"http://{bind_address(self.settings.metrics_host, port)}/metrics"
            for _, port in self.metrics_ports.values()
        )
        log.info(
            f"Kurator is up in {seconds:.1f}s. API docs: {api}/docs  Health: {api}/health  "
            f"Temporal UI: {ui}  Data: {self.data_dir}  Stop: Ctrl-C  "
            f"Case details decoded in the UI: sign in at {api}{CODEC_PREFIX}/sign-in with "
            "`kurator token --staff staff-201 --role supervisor --municipality berdsk` "
            "(the page says which UI setting to tick)",
            temporal_address=env["KURATOR_TEMPORAL_ADDRESS"],
            worker_metrics=worker_metrics,
            api_metrics=api_metrics,
        )
        if self.mail_catcher is not None:
            log.info(
                f"E-mails are caught by the SMTP catcher on 127.0.0.1:{self.mail_catcher.port}: "
                "each is "
                f"logged here as `e-mail caught` and kept in {self.data_dir / DEV_MAILDIR}/new/ "
                "(a Maildir: one file per message); staff inboxes at "
                f"{api}/api/v1/notifications"
            )

    async def _watch(self, stop: asyncio.Event) -> bool:
        """Wait for a stop signal; True if instead a component died."""
        while not stop.is_set():
            for child in self.children:
                if child.exited():
                    log.error(
                        "component stopped unexpectedly; stopping the rest",
                        component=child.name,
                        status=child.process.returncode,
                        log_tail=child.log_tail(),
                    )
                    return True
            try:
                await asyncio.wait_for(stop.wait(), timeout=1)
            except TimeoutError:
                continue
        log.info("stopping Kurator")
        return False

    async def _stop_all(self) -> None:
        for child in reversed(self.children):
            await child.stop()
        self.children.clear()
        if self.mail_catcher is not None:
            await self.mail_catcher.stop()
            self.mail_catcher = None
        if self.postgres is not None:
            await asyncio.to_thread(self.postgres.stop)
            self.postgres = None
        log.info("all components stopped")
