"""Shared fixtures: a render context, the MJML newsletter, and segment rows from DuckDB.

The rows come from a real DuckDB query over the jaffle-shop fixture (customers, orders,
payments), shaped like a segment model's output: Decimal amounts, dates, NULLs for customers
who never ordered, so templates meet the types the warehouse really returns.
"""

from pathlib import Path

import duckdb
import pytest

from activation.render import RenderContext, TemplateCache
from tests.fixtures.shared_payloads import JAFFLE_SHOP

HERE = Path(__file__).parent
JAFFLE = JAFFLE_SHOP
SECRET = b"test-unsubscribe-secret-0123456789"
FEATURED = [
    {
        "name": "Rain jacket",
        "price": 129,
        "image": "https://cdn.example.com/p1.jpg",
        "url": "https://shop.example.com/p/1",
    },
    {
        "name": "Trail shoes",
        "price": 99,
        "image": "https://cdn.example.com/p2.jpg",
        "url": "https://shop.example.com/p/2",
    },
    {
        "name": "Wool beanie",
        "price": 25,
        "image": "https://cdn.example.com/p3.jpg",
        "url": "https://shop.example.com/p/3",
    },
]

SEGMENT_SQL = f"""
with orders as (
    select o.user_id, max(o.order_date) as last_order_date, count(*) as orders,
           sum(p.amount) / 100.0 as paid
    from read_csv_auto('{JAFFLE / "raw_orders.csv"}') o
    left join read_csv_auto('{JAFFLE / "raw_payments.csv"}') p on p.order_id = o.id
    group by o.user_id
)
select
    'p' || c.id as profile_id,
    lower(c.first_name) || '.' || c.id || '@example.com' as email,
    c.first_name,
    c.last_name,
    case when c.id % 3 = 0 then 'America/New_York' when c.id % 3 = 1 then 'Europe/Paris'
         else null end as time_zone,
    cast(o.paid as decimal(12, 2)) as lifetime_value,
    o.orders,
    o.last_order_date
from read_csv_auto('{JAFFLE / "raw_customers.csv"}') c
left join orders o on o.user_id = c.id
order by c.id
"""


@pytest.fixture(scope="session")
def segment_rows() -> list[dict]:
    with duckdb.connect() as connection:
        cursor = connection.execute(SEGMENT_SQL)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


@pytest.fixture
def context() -> RenderContext:
    return RenderContext(
        unsubscribe_base_url="https://mail.tidemark.example/",
        unsubscribe_secret=SECRET,
        unsubscribe_mailto="unsubscribe@tidemark.example",
        default_timezone="UTC",
        variables={
            "campaign_name": "Spring drop",
            "campaign_slug": "spring-drop",
            "featured": FEATURED,
        },
    )


@pytest.fixture
def cache() -> TemplateCache:
    return TemplateCache()


@pytest.fixture(scope="session")
def newsletter_mjml() -> str:
    return (HERE / "newsletter.mjml").read_text()
