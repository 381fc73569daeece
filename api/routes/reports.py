"""GET /api/v1/reports/indicators: the pilot's indicators over the caller's territory, as JSON,
CSV (`?format=csv` or `Accept: text/csv`; one indicator's table with `&indicator=ID`) or the
dashboard page (`Accept: text/html`, or /indicators.html).

Access (PRODUCT.md §3): the ministry every municipality, heads and supervisors their own,
specialists none. A browser is signed in by the codec sign-in's cookie (api/codec_caller.py),
so the dashboard opens without a tool that sets `Authorization`.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.codec_caller import CODEC_PREFIX, REPORTS_PREFIX, presented_token
from api.dashboard.page import PAGE_HEADERS, FormState, dashboard_page, error_page
from api.deps import State, refusal, territory
from api.errors import ApiError, ErrorBody
from api.sign_in import SignInRefused, authenticate
from models.payloads.actions import Actor
from models.payloads.vocabulary import StaffRole
from models.reports.catalogue import IndicatorId
from models.reports.compute import compute_report
from models.reports.csv_export import indicator_csv, report_csv
from models.reports.period import OutsideTerritory, ReportFilterError, report_filter
from models.reports.results import IndicatorReport
from models.territory import MUNICIPALITIES

router = APIRouter(prefix=REPORTS_PREFIX, tags=["reports"])

Format = Literal["json", "csv", "html"]
SIGN_IN_PAGE = f"{CODEC_PREFIX}/sign-in"

DateFrom = Annotated[
    str | None,
    Query(alias="from", description="С / first day, YYYY-MM-DD (default: 1 January this year)."),
]
DateTo = Annotated[
    str | None, Query(alias="to", description="По / last day, YYYY-MM-DD (default: today).")
]
Municipality = Annotated[
    str | None, Query(description="Муниципалитет / one municipality's code; default: all yours.")
]
FormatParam = Annotated[
    Format | None, Query(alias="format", description="json, csv or html; default: by Accept.")
]
OneIndicator = Annotated[
    IndicatorId | None, Query(description="CSV only: this indicator's own table.")
]

_PAGE = {"text/html": {"schema": {"type": "string"}}}


def _refusals(*statuses: int, as_json: bool) -> dict[int | str, dict[str, Any]]:
    """The refusals' documentation: a page for a browser, and JSON unless only a page."""
    if as_json:
        return {status: {"model": ErrorBody, "content": _PAGE} for status in statuses}
    return {status: {"content": _PAGE} for status in statuses}


_DESCRIPTION = (
    "Each indicator comes with its Russian label and how it is computed "
    "(models/policy/indicators.toml). Periods are local dates, both ends included."
)


@router.get(
    "/indicators",
    summary="The pilot's indicators (JSON, CSV or the HTML dashboard)",
    description=_DESCRIPTION,
    response_model=IndicatorReport,
    responses={
        **_refusals(401, 403, 422, as_json=True),
        200: {"content": {"text/csv": {"schema": {"type": "string"}}, **_PAGE}},
    },
)
async def indicators(
    request: Request,
    state: State,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    municipality: Municipality = None,
    answer_format: FormatParam = None,
    indicator: OneIndicator = None,
) -> Response:
    chosen = answer_format or _format_from_accept(request.headers.get("accept", ""))
    return await _answer(request, state, chosen, date_from, date_to, municipality, indicator)


@router.get(
    "/indicators.html",
    summary="The indicators dashboard (HTML with inline SVG charts)",
    response_class=HTMLResponse,
    responses=_refusals(401, 403, 422, as_json=False),
)
async def dashboard(
    request: Request,
    state: State,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    municipality: Municipality = None,
) -> Response:
    return await _answer(request, state, "html", date_from, date_to, municipality, None)


def _format_from_accept(accept: str) -> Format:
    accepted = accept.lower()
    if "text/html" in accepted:
        return "html"
    if "text/csv" in accepted:
        return "csv"
    return "json"


async def _answer(
    request: Request,
    state: State,
    answer_format: Format,
    date_from: str | None,
    date_to: str | None,
    municipality: str | None,
    indicator: IndicatorId | None,
) -> Response:
    setup = state.reports
    today = (datetime.now(UTC) + setup.utc_offset).date()
    asked_from = date_from or today.replace(month=1, day=1).isoformat()
    asked_to = date_to or today.isoformat()
    form: FormState | None = None
    try:
        actor = await _reader(request, state)
        visible = territory(actor)
        form = FormState(
            date_from=asked_from,
            date_to=asked_to,
            municipality=municipality or "",
            choices=[m.code for m in MUNICIPALITIES if visible is None or m.code in visible],
        )
        chosen = report_filter(
            date_from=_day("from", asked_from),
            date_to=_day("to", asked_to),
            municipality=municipality or None,
            territory=visible,
            utc_offset=setup.utc_offset,
        )
    except ReportFilterError as error:
        problem = ApiError(422, "invalid_request", str(error))
        return _refusal(problem, answer_format, form)
    except OutsideTerritory as error:
        return _refusal(ApiError(403, "forbidden", str(error)), answer_format, form)
    except ApiError as error:
        return _refusal(error, answer_format, form)
    report = await compute_report(state.sessions, setup, chosen, now=datetime.now(UTC))
    if answer_format == "csv":
        return _csv(report, indicator)
    if answer_format == "html":
        query = {"from": asked_from, "to": asked_to}
        if municipality:
            query["municipality"] = municipality
        page = dashboard_page(report, form, query=query)
        return HTMLResponse(page, headers=PAGE_HEADERS)
    return JSONResponse(report.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


async def _reader(request: Request, state: State) -> Actor:
    """The caller, if it may read indicators; ApiError 401 or 403 otherwise."""
    challenge = {"WWW-Authenticate": "Bearer"}
    token = presented_token(request)
    if token is None:
        message = f"send Authorization: Bearer <token>, or sign in at {SIGN_IN_PAGE}"
        raise ApiError(401, "unauthenticated", message, headers=challenge)
    try:
        actor = await authenticate(state, token)
    except SignInRefused as refused:
        hint = "" if "Authorization" in request.headers else f" (sign in again at {SIGN_IN_PAGE})"
        raise refusal(refused, hint) from None
    if actor.role is StaffRole.SPECIALIST:
        raise ApiError(403, "forbidden", "indicators are for supervisors, heads and the ministry")
    return actor


def _day(parameter: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReportFilterError(parameter, "not a date (YYYY-MM-DD)") from None


def _refusal(error: ApiError, answer_format: Format, form: FormState | None) -> Response:
    if answer_format != "html":
        raise error
    sign_in = SIGN_IN_PAGE if error.status == 401 else None
    page = error_page(error.status, error.message, sign_in=sign_in, form=form)
    return HTMLResponse(
        page, status_code=error.status, headers={**PAGE_HEADERS, **(error.headers or {})}
    )


def _csv(report: IndicatorReport, indicator: IndicatorId | None) -> Response:
    name = f"indicators-{report.date_from}-{report.date_to}"
    if indicator is None:
        body = report_csv(report)
    else:
        tables = [t for t in report.indicators if t.id == indicator]
        if not tables:
            raise ApiError(422, "invalid_request", f"indicator: {indicator} is not in this report")
        body, name = indicator_csv(tables[0]), f"{indicator}-{report.date_from}-{report.date_to}"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            "Cache-Control": "no-store",
        },
    )
