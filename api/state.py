"""What the API's lifespan builds once and routes use: engine, sessions, Temporal client."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from models.db import SessionFactory
from models.settings import Settings


@dataclass(frozen=True)
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    temporal: Client
    jwt_secret: bytes
    pseudonym_secret: bytes
