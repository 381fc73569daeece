"""E-mail over a real SMTP server (aiosmtpd) that requires STARTTLS and AUTH, as a region's
mail server does: sent with the right settings, and refused (for retry, not the dead letter)
with a wrong password, without STARTTLS or against an unknown certificate."""

import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from infra.delivery.channels import DeliveryError, EmailChannel, OutgoingMessage, SmtpConfig
from workers.devstack.mail_catcher import MailCatcher

LOGIN = ("kurator-mailer", "synthetic-test-password")
MESSAGE = OutgoingMessage("tls-test.sup-1.email", "sup-1@kurator.example", "Тема", "Текст")


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest_asyncio.fixture
async def secure_server(tmp_path: Path) -> AsyncIterator[tuple[MailCatcher, Path]]:
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = await MailCatcher(tls_context=context, credentials=LOGIN).start()
    yield server, cert_file
    await server.stop()


def _channel(server: MailCatcher, ca: Path | None, **overrides: object) -> EmailChannel:
    values: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "starttls": True,
        "username": LOGIN[0],
        "password": LOGIN[1],
        "ca_file": ca,
        "timeout_seconds": 10,
        **overrides,
    }
    return EmailChannel(SmtpConfig(**values))  # type: ignore[arg-type]


async def test_starttls_and_auth_deliver(secure_server: tuple[MailCatcher, Path]) -> None:
    server, ca = secure_server
    await _channel(server, ca).send(MESSAGE)
    [caught] = server.messages
    assert caught.message_id == "<tls-test.sup-1.email@kurator>"
    assert caught.subject == "Тема"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"password": "wrong"}, "SMTP login refused: 535"),
        ({"starttls": False}, "SMTP AUTH extension not supported by server"),
        ({"ca_file": None}, "SSLCertVerificationError"),
    ],
    ids=["wrong password", "no STARTTLS", "unknown certificate"],
)
async def test_a_setting_to_fix_is_retried_not_dead_lettered(
    secure_server: tuple[MailCatcher, Path], overrides: dict[str, object], problem: str
) -> None:
    server, ca = secure_server
    with pytest.raises(DeliveryError) as refused:
        await _channel(server, ca, **overrides).send(MESSAGE)
    assert problem in str(refused.value)
    assert refused.value.permanent is False
    assert server.messages == []
