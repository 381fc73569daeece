"""FastAPI dependencies as `Annotated` aliases."""

from typing import Annotated, cast

from fastapi import Depends, Request

from api.state import AppState


def get_state(request: Request) -> AppState:
    return cast(AppState, request.app.state.kurator)


State = Annotated[AppState, Depends(get_state)]
