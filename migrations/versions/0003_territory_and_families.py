"""territory and families

The oblast's 35 municipalities are written out here, not imported from models.territory: a
migration must produce the same database forever, whatever the application's data becomes.
A test checks that these rows equal models.territory.MUNICIPALITIES; a later change to the
territory needs a migration of its own.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CITY = 'city_district'
_DISTRICT = 'municipal_district'

MUNICIPALITIES: list[tuple[str, str, str]] = [
    ('novosibirsk', 'город Новосибирск', _CITY),
    ('berdsk', 'город Бердск', _CITY),
    ('iskitim', 'город Искитим', _CITY),
    ('ob', 'город Обь', _CITY),
    ('koltsovo', 'рабочий посёлок Кольцово', _CITY),
    ('bagan_district', 'Баганский район', _DISTRICT),
    ('barabinsk_district', 'Барабинский район', _DISTRICT),
    ('bolotnoye_district', 'Болотнинский район', _DISTRICT),
    ('vengerovo_district', 'Венгеровский район', _DISTRICT),
    ('dovolnoye_district', 'Доволенский район', _DISTRICT),
    ('zdvinsk_district', 'Здвинский район', _DISTRICT),
    ('iskitim_district', 'Искитимский район', _DISTRICT),
    ('karasuk_district', 'Карасукский район', _DISTRICT),
    ('kargat_district', 'Каргатский район', _DISTRICT),
    ('kolyvan_district', 'Колыванский район', _DISTRICT),
    ('kochenevo_district', 'Коченёвский район', _DISTRICT),
    ('kochki_district', 'Кочковский район', _DISTRICT),
    ('krasnozerskoye_district', 'Краснозёрский район', _DISTRICT),
    ('kuybyshev_district', 'Куйбышевский район', _DISTRICT),
    ('kupino_district', 'Купинский район', _DISTRICT),
    ('kyshtovka_district', 'Кыштовский район', _DISTRICT),
    ('maslyanino_district', 'Маслянинский район', _DISTRICT),
    ('moshkovo_district', 'Мошковский район', _DISTRICT),
    ('novosibirsk_district', 'Новосибирский район', _DISTRICT),
    ('ordynskoye_district', 'Ордынский район', _DISTRICT),
    ('severnoye_district', 'Северный район', _DISTRICT),
    ('suzun_district', 'Сузунский район', _DISTRICT),
    ('tatarsk_district', 'Татарский район', _DISTRICT),
    ('toguchin_district', 'Тогучинский район', _DISTRICT),
    ('ubinskoye_district', 'Убинский район', _DISTRICT),
    ('ust_tarka_district', 'Усть-Таркский район', _DISTRICT),
    ('chany_district', 'Чановский район', _DISTRICT),
    ('cherepanovo_district', 'Черепановский район', _DISTRICT),
    ('chistoozernoye_district', 'Чистоозёрный район', _DISTRICT),
    ('chulym_district', 'Чулымский район', _DISTRICT),
]


def upgrade() -> None:
    municipalities = op.create_table('municipalities',
    sa.Column('name_ru', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.CheckConstraint("kind IN ('city_district', 'municipal_district')", name='ck_municipalities_kind'),
    sa.PrimaryKeyConstraint('code')
    )
    op.bulk_insert(
        municipalities,
        [{'code': code, 'name_ru': name_ru, 'kind': kind} for code, name_ru, kind in MUNICIPALITIES],
    )
    op.create_table('families',
    sa.Column('family_key', sa.String(length=64), nullable=False),
    sa.Column('municipality', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('record', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['municipality'], ['municipalities.code'], name='fk_families_municipality'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('family_key', name='uq_families_family_key')
    )
    op.create_index('ix_families_municipality', 'families', ['municipality'], unique=False)
    op.create_table('family_access_log',
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('staff_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("action IN ('read', 'write')", name='ck_family_access_log_action'),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name='fk_family_access_log_family_id'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_family_access_log_family_id_at', 'family_access_log', ['family_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_family_access_log_family_id_at', table_name='family_access_log')
    op.drop_table('family_access_log')
    op.drop_index('ix_families_municipality', table_name='families')
    op.drop_table('families')
    op.drop_table('municipalities')
