"""A small, hand-made audience in a real warehouse: `analytics.profiles` and one segment table."""

from activation.segments import Segment

PROFILE_COLUMNS = (
    "profile_id varchar, email varchar, phone varchar, first_name varchar, time_zone varchar, "
    "is_email_valid boolean, email_consent varchar, sms_consent varchar, "
    "is_email_suppressed boolean, is_sms_suppressed boolean"
)


def segment(name="test"):
    return Segment(
        name=name,
        model=f"segment_{name}",
        relation=f"analytics.segment_{name}",
        label=name.title(),
        description="",
        owner=None,
        channels=("email", "sms"),
        columns=("profile_id", "email", "first_name"),
    )


def manifest_for(*segments):
    """The parts of a dbt manifest the engine reads: segment models (and no exposures)."""
    nodes = {
        f"model.tidemark.{s.model}": {
            "resource_type": "model",
            "name": s.model,
            "schema": "analytics",
            "config": {
                "meta": {"tidemark": {"segment": {"label": s.label, "channels": ["email"]}}}
            },
            "columns": {c: {} for c in s.columns},
        }
        for s in segments
    }
    return {"nodes": nodes, "exposures": {}}


def create_audience_tables(warehouse, *segment_names):
    warehouse.execute("create schema if not exists analytics")
    warehouse.execute(f"create table if not exists analytics.profiles ({PROFILE_COLUMNS})")
    for name in segment_names:
        warehouse.execute(
            f"create table if not exists analytics.segment_{name} "
            "(profile_id varchar, email varchar, first_name varchar)"
        )


def add_profile(
    warehouse,
    profile_id,
    email="",
    *,
    segments=("test",),
    tz="UTC",
    valid=True,
    consent="granted",
    suppressed=False,
    phone=None,
    sms_consent="never_asked",
    first_name="Ann",
):
    email = email or f"{profile_id}@example.com"
    warehouse.execute(
        "insert into analytics.profiles values (?, ?, ?, ?, ?, ?, ?, ?, ?, false)",
        [profile_id, email, phone, first_name, tz, valid, consent, sms_consent, suppressed],
    )
    for name in segments:
        warehouse.execute(
            f"insert into analytics.segment_{name} values (?, ?, ?)",
            [profile_id, email, first_name],
        )


def add_many(warehouse, count, *, segments=("test",), prefix="p"):
    """`count` reachable profiles in one statement (fast enough for thousands)."""
    warehouse.execute(
        "insert into analytics.profiles select ? || lpad(i::varchar, 6, '0'), "
        "? || lpad(i::varchar, 6, '0') || '@example.com', null, 'Ann', 'UTC', true, 'granted', "
        "'never_asked', false, false from range(?) t(i)",
        [prefix, prefix, count],
    )
    for name in segments:
        warehouse.execute(
            f"insert into analytics.segment_{name} select profile_id, email, first_name "
            "from analytics.profiles where profile_id like ? || '%'",
            [prefix],
        )


def daytime_zone():
    """A time zone where it is now between 10:00 and 19:00, outside any default quiet hours."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    for offset in range(-11, 13):
        zone = f"Etc/GMT{-offset:+d}" if offset else "UTC"
        if 10 <= datetime.now(UTC).astimezone(ZoneInfo(zone)).hour < 19:
            return zone
    raise AssertionError("some zone is always in its daytime")
