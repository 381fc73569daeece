"""The territory of Novosibirsk oblast: its 35 municipalities (PRODUCT.md §3).

Territory is part of access control: a staff member serves one or more municipalities and
sees only their cases. A municipality's `code` is what cases, search attributes, tokens and
the `municipalities` table carry; codes are stable lowercase ASCII and are never renamed.

Codes: the five city districts (городские округа) are named after the city itself
("novosibirsk", "berdsk", "iskitim", "ob", "koltsovo"); the thirty municipal districts
(муниципальные районы) after their administrative centre with a "_district" suffix
("iskitim_district" is Искитимский район, centred on the city of Iskitim but a separate
municipality). Transliteration: ё as "e", й as "y", no soft signs, hyphens as "_".

Case-number prefixes (`case_prefix`): three capitals from the name, the city districts by
the city (НСК, БРД, ИСК, ОБЬ, КЛЦ), the municipal districts by their centre; where a city
and the district around it share a root, the district's ends in Р for район (НСР, ИСР).

The pilot sites (PRODUCT.md §1) are `berdsk` (МБУ «КЦСОН города Бердска») and
`iskitim_district` (МБУ «КЦСОН «Вера» Искитимского района»): see `PILOT_CODES`.

Pure data: no I/O, importable from workflows, the API and migrations' tests alike. Migration
0003 seeds the same rows literally (a migration must not change when this module does); a
test checks the two agree.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from models.payloads.fields import MUNICIPALITY_CODE_PATTERN

CODE_PATTERN = re.compile(MUNICIPALITY_CODE_PATTERN)


class MunicipalityKind(StrEnum):
    """The two kinds of municipality in the oblast (131-ФЗ ст. 2)."""

    CITY_DISTRICT = "city_district"  # городской округ
    MUNICIPAL_DISTRICT = "municipal_district"  # муниципальный район


@dataclass(frozen=True, slots=True)
class Municipality:
    code: str
    name_ru: str
    kind: MunicipalityKind
    # The territory part of a readable case number (БРД-2026-00042, models/case_numbers.py):
    # three Cyrillic capitals, unique, never changed once numbers are issued (a number already
    # given keeps its prefix; a changed one would start a second sequence for the same place).
    case_prefix: str


_CITY = MunicipalityKind.CITY_DISTRICT
_DISTRICT = MunicipalityKind.MUNICIPAL_DISTRICT

MUNICIPALITIES: tuple[Municipality, ...] = (
    Municipality("novosibirsk", "город Новосибирск", _CITY, "НСК"),
    Municipality("berdsk", "город Бердск", _CITY, "БРД"),
    Municipality("iskitim", "город Искитим", _CITY, "ИСК"),
    Municipality("ob", "город Обь", _CITY, "ОБЬ"),
    Municipality("koltsovo", "рабочий посёлок Кольцово", _CITY, "КЛЦ"),
    Municipality("bagan_district", "Баганский район", _DISTRICT, "БАГ"),
    Municipality("barabinsk_district", "Барабинский район", _DISTRICT, "БАР"),
    Municipality("bolotnoye_district", "Болотнинский район", _DISTRICT, "БЛТ"),
    Municipality("vengerovo_district", "Венгеровский район", _DISTRICT, "ВНГ"),
    Municipality("dovolnoye_district", "Доволенский район", _DISTRICT, "ДВЛ"),
    Municipality("zdvinsk_district", "Здвинский район", _DISTRICT, "ЗДВ"),
    Municipality("iskitim_district", "Искитимский район", _DISTRICT, "ИСР"),
    Municipality("karasuk_district", "Карасукский район", _DISTRICT, "КРС"),
    Municipality("kargat_district", "Каргатский район", _DISTRICT, "КРГ"),
    Municipality("kolyvan_district", "Колыванский район", _DISTRICT, "КЛВ"),
    Municipality("kochenevo_district", "Коченёвский район", _DISTRICT, "КЧН"),
    Municipality("kochki_district", "Кочковский район", _DISTRICT, "КЧК"),
    Municipality("krasnozerskoye_district", "Краснозёрский район", _DISTRICT, "КРЗ"),
    Municipality("kuybyshev_district", "Куйбышевский район", _DISTRICT, "КУЙ"),
    Municipality("kupino_district", "Купинский район", _DISTRICT, "КУП"),
    Municipality("kyshtovka_district", "Кыштовский район", _DISTRICT, "КЫШ"),
    Municipality("maslyanino_district", "Маслянинский район", _DISTRICT, "МСЛ"),
    Municipality("moshkovo_district", "Мошковский район", _DISTRICT, "МШК"),
    Municipality("novosibirsk_district", "Новосибирский район", _DISTRICT, "НСР"),
    Municipality("ordynskoye_district", "Ордынский район", _DISTRICT, "ОРД"),
    Municipality("severnoye_district", "Северный район", _DISTRICT, "СЕВ"),
    Municipality("suzun_district", "Сузунский район", _DISTRICT, "СУЗ"),
    Municipality("tatarsk_district", "Татарский район", _DISTRICT, "ТАТ"),
    Municipality("toguchin_district", "Тогучинский район", _DISTRICT, "ТОГ"),
    Municipality("ubinskoye_district", "Убинский район", _DISTRICT, "УБН"),
    Municipality("ust_tarka_district", "Усть-Таркский район", _DISTRICT, "УТК"),
    Municipality("chany_district", "Чановский район", _DISTRICT, "ЧАН"),
    Municipality("cherepanovo_district", "Черепановский район", _DISTRICT, "ЧРП"),
    Municipality("chistoozernoye_district", "Чистоозёрный район", _DISTRICT, "ЧСТ"),
    Municipality("chulym_district", "Чулымский район", _DISTRICT, "ЧУЛ"),
)
"""City districts first, then municipal districts in Russian alphabetical order."""

MUNICIPALITY_CODES: frozenset[str] = frozenset(m.code for m in MUNICIPALITIES)

PILOT_CODES: frozenset[str] = frozenset({"berdsk", "iskitim_district"})

_BY_CODE: dict[str, Municipality] = {m.code: m for m in MUNICIPALITIES}


def by_code(code: str) -> Municipality:
    """The municipality with `code`.

    Raises ValueError (not KeyError) naming the unknown code, so a pydantic validator can call
    it directly and the message reaches the API client. Use `code in MUNICIPALITY_CODES` to
    test without raising.
    """
    try:
        return _BY_CODE[code]
    except KeyError:
        raise ValueError(f"unknown municipality code {code!r}") from None


CASE_PREFIXES: frozenset[str] = frozenset(m.case_prefix for m in MUNICIPALITIES)
