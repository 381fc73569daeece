"""`allocate_case_number` over real PostgreSQL (as the application's login): one number per
case however often it is asked, one sequence per territory and year, no gap and no duplicate
when intakes race. Each test numbers in a year of its own, far from the cases other tests
open in the shared database."""

import asyncio
from uuid import UUID, uuid4

from sqlmodel import col, func, select
from temporalio.testing import ActivityEnvironment

from activities.case_numbers import CaseNumberActivities
from models.db import SessionFactory
from models.payloads.case_number import CaseNumberRequest
from models.tables.case_number import CaseNumberRow


async def _allocate(
    activities: CaseNumberActivities, case_id: UUID, municipality: str, year: int
) -> str:
    request = CaseNumberRequest(case_id=case_id, municipality=municipality, year=year)
    number: str = await ActivityEnvironment().run(activities.allocate_case_number, request)
    return number


async def test_a_case_keeps_its_number_and_the_next_case_gets_the_next(
    sessions: SessionFactory,
) -> None:
    activities = CaseNumberActivities(sessions)
    first, second = uuid4(), uuid4()
    assert await _allocate(activities, first, "berdsk", 2091) == "БРД-2091-00001"
    assert await _allocate(activities, first, "berdsk", 2091) == "БРД-2091-00001"  # a retry
    assert await _allocate(activities, second, "berdsk", 2091) == "БРД-2091-00002"


async def test_each_territory_and_year_counts_on_its_own(sessions: SessionFactory) -> None:
    activities = CaseNumberActivities(sessions)
    assert await _allocate(activities, uuid4(), "berdsk", 2092) == "БРД-2092-00001"
    assert await _allocate(activities, uuid4(), "iskitim_district", 2092) == "ИСР-2092-00001"
    assert await _allocate(activities, uuid4(), "berdsk", 2093) == "БРД-2093-00001"
    assert await _allocate(activities, uuid4(), "berdsk", 2092) == "БРД-2092-00002"


async def test_racing_intakes_get_distinct_numbers_without_gaps(sessions: SessionFactory) -> None:
    activities = CaseNumberActivities(sessions)
    cases = [uuid4() for _ in range(12)]
    numbers = await asyncio.gather(*(_allocate(activities, c, "ob", 2094) for c in cases))
    assert sorted(numbers) == [f"ОБЬ-2094-{seq:05d}" for seq in range(1, 13)]


async def test_racing_allocations_of_one_case_agree_and_leave_no_gap(
    sessions: SessionFactory,
) -> None:
    """A local activity run twice at once (a worker's task timed out and another took it):
    both get the one number; the draw the loser rolled back is not lost to the next case."""
    activities = CaseNumberActivities(sessions)
    case = uuid4()
    numbers = await asyncio.gather(
        *(_allocate(activities, case, "koltsovo", 2095) for _ in range(6))
    )
    assert set(numbers) == {"КЛЦ-2095-00001"}
    assert await _allocate(activities, uuid4(), "koltsovo", 2095) == "КЛЦ-2095-00002"
    async with sessions() as session:
        rows = select(func.count()).where(col(CaseNumberRow.case_id) == case)
        assert (await session.exec(rows)).one() == 1
