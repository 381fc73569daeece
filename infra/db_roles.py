"""The application's database login: a member of `kurator_app`, the group role migration 0008
grants (SELECT and INSERT only on the case history, ordinary rights elsewhere).

The API and the worker connect as such a login (KURATOR_DATABASE_URL); migrations run as the
schema's owner (KURATOR_DATABASE_OWNER_URL). `kurator migrate` and `kurator dev` make sure the
login of the application's URL exists and belongs to the group, so the application never holds
rights over the audit trail that it does not need.
"""

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

APP_GROUP_ROLE = "kurator_app"  # created by migration 0008


class AppLoginError(Exception):
    """The application's login cannot be set up; the message says what to do."""


def login_of(database_url: str) -> str | None:
    """The user a URL logs in as, if it names one."""
    return make_url(database_url).username


def url_as(database_url: str, user: str, password: str | None = None) -> str:
    """`database_url` logging in as `user` (with `password`, if given) instead."""
    url = make_url(database_url).set(username=user, password=password)
    return url.render_as_string(hide_password=False)


def ensure_app_login(owner_url: str, app_url: str) -> None:
    """Make the login of `app_url` a member of the application's group role, creating it
    (with the URL's password) when missing. Nothing to do when both URLs log in as one user:
    the application then runs as the owner, which the README advises against."""
    owner, user = login_of(owner_url), login_of(app_url)
    if user is None or user == owner:
        return
    password = make_url(app_url).password
    with psycopg.connect(_conninfo(owner_url), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
        member = (
            connection.execute(
                "SELECT pg_has_role(%s, %s, 'MEMBER')", (user, APP_GROUP_ROLE)
            ).fetchone()
            if exists
            else None
        )
        if member is not None and member[0]:
            return
        try:
            if exists is None:
                create = sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(user))
                if password:
                    create += sql.SQL(" PASSWORD {}").format(sql.Literal(str(password)))
                connection.execute(create)
            connection.execute(
                sql.SQL("GRANT {} TO {}").format(
                    sql.Identifier(APP_GROUP_ROLE), sql.Identifier(user)
                )
            )
        except psycopg.errors.InsufficientPrivilege:
            raise AppLoginError(
                f"the schema owner may not create or grant role {user}: create it as a "
                f"database administrator (CREATE ROLE {user} LOGIN IN ROLE {APP_GROUP_ROLE})"
            ) from None


def _conninfo(database_url: str) -> str:
    """A libpq URL for psycopg (SQLAlchemy's driver suffix removed)."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)
