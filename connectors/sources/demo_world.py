"""The built-in world the demo people live in: countries, time zones, phone plans, email
domains, names and the daily rhythm of shoppers.

Data only, kept apart from the code that draws from it, so the mix can be tuned (or a country
added) without touching the generator. Weights are relative; they need not sum to one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    """A country profiles come from, with how its phone numbers and addresses look."""

    code: str
    weight: float
    zones: tuple[tuple[str, float], ...]
    calling_code: int
    mobile_prefixes: tuple[int, ...]
    """Leading digits of mobile numbers (national significant number, no trunk 0)."""
    subscriber_digits: int
    subscriber_min: int
    local_email_domains: tuple[tuple[str, float], ...]
    """Providers popular in this country, on top of the global mix (their share of it)."""


_US_AREA_CODES: tuple[int, ...] = (201, 202, 206, 212, 213, 214, 303, 305, 310, 312, 404, 415)
_US_AREA_CODES += (503, 512, 602, 617, 646, 702, 713, 718, 773, 818, 917)

COUNTRIES: tuple[Country, ...] = (
    Country(
        "US",
        36,
        (
            ("America/New_York", 46),
            ("America/Chicago", 28),
            ("America/Denver", 6),
            ("America/Phoenix", 2),
            ("America/Los_Angeles", 16),
            ("America/Anchorage", 1),
            ("Pacific/Honolulu", 1),
        ),
        1,
        _US_AREA_CODES,
        7,
        2_000_000,
        (),
    ),
    Country(
        "GB",
        10,
        (("Europe/London", 1),),
        44,
        (74, 75, 77, 78, 79),
        8,
        0,
        (("yahoo.co.uk", 6), ("hotmail.co.uk", 5), ("btinternet.com", 4), ("sky.com", 2)),
    ),
    Country(
        "DE",
        8,
        (("Europe/Berlin", 1),),
        49,
        (151, 152, 157, 160, 162, 170, 171, 172, 175, 176, 177, 178, 179),
        8,
        0,
        (("gmx.de", 12), ("web.de", 12), ("t-online.de", 6)),
    ),
    Country(
        "FR",
        6,
        (("Europe/Paris", 1),),
        33,
        (6, 7),
        8,
        0,
        (("orange.fr", 10), ("free.fr", 6), ("laposte.net", 4)),
    ),
    Country(
        "CA",
        6,
        (
            ("America/Toronto", 55),
            ("America/Vancouver", 18),
            ("America/Edmonton", 12),
            ("America/Winnipeg", 5),
            ("America/Halifax", 7),
            ("America/St_Johns", 3),
        ),
        1,
        (416, 437, 514, 604, 613, 647, 780, 902, 905),
        7,
        2_000_000,
        (("rogers.com", 4), ("shaw.ca", 3)),
    ),
    Country(
        "AU",
        5,
        (
            ("Australia/Sydney", 35),
            ("Australia/Melbourne", 32),
            ("Australia/Brisbane", 18),
            ("Australia/Perth", 10),
            ("Australia/Adelaide", 5),
        ),
        61,
        (4,),
        8,
        0,
        (("bigpond.com", 8), ("optusnet.com.au", 4)),
    ),
    Country(
        "BR",
        5,
        (
            ("America/Sao_Paulo", 70),
            ("America/Recife", 10),
            ("America/Fortaleza", 7),
            ("America/Manaus", 8),
            ("America/Belem", 5),
        ),
        55,
        (119, 219, 319, 419, 519, 619, 719, 819, 929),
        8,
        0,
        (("uol.com.br", 8), ("bol.com.br", 5)),
    ),
    Country("IN", 5, (("Asia/Kolkata", 1),), 91, (6, 7, 8, 9), 9, 0, (("rediffmail.com", 6),)),
    Country(
        "ES",
        4,
        (("Europe/Madrid", 95), ("Atlantic/Canary", 5)),
        34,
        (6, 7),
        8,
        0,
        (("hotmail.es", 6), ("yahoo.es", 5)),
    ),
    Country(
        "IT",
        4,
        (("Europe/Rome", 1),),
        39,
        (320, 328, 333, 338, 340, 347, 348, 349, 366, 380, 388, 393),
        7,
        0,
        (("libero.it", 10), ("virgilio.it", 4)),
    ),
    Country(
        "NL", 3, (("Europe/Amsterdam", 1),), 31, (6,), 8, 0, (("ziggo.nl", 5), ("kpnmail.nl", 5))
    ),
    Country(
        "JP",
        3,
        (("Asia/Tokyo", 1),),
        81,
        (70, 80, 90),
        8,
        0,
        (("yahoo.co.jp", 12), ("docomo.ne.jp", 6)),
    ),
    Country(
        "MX",
        2,
        (
            ("America/Mexico_City", 70),
            ("America/Monterrey", 15),
            ("America/Tijuana", 10),
            ("America/Cancun", 5),
        ),
        52,
        (55, 33, 81),
        8,
        0,
        (("prodigy.net.mx", 4),),
    ),
    Country(
        "SE", 1.5, (("Europe/Stockholm", 1),), 46, (70, 72, 73, 76, 79), 7, 0, (("telia.com", 4),)
    ),
    Country(
        "IE", 1.5, (("Europe/Dublin", 1),), 353, (83, 85, 86, 87, 89), 7, 0, (("eircom.net", 5),)
    ),
)

ZONES: tuple[str, ...] = tuple(sorted({zone for c in COUNTRIES for zone, _ in c.zones}))
"""Every time zone in the world, in a fixed order; profiles carry an index into it."""

GLOBAL_EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 40),
    ("yahoo.com", 9),
    ("outlook.com", 9),
    ("hotmail.com", 8),
    ("icloud.com", 9),
    ("aol.com", 2),
    ("proton.me", 2),
    ("acmecorp.com", 2),
    ("globex-corp.com", 1.5),
    ("initech.io", 1),
    ("umbrella-industries.com", 1),
    ("northwind-traders.com", 1),
)


def email_domains(country: Country) -> tuple[tuple[str, float], ...]:
    """The domain mix of a country: local providers' share taken out of the global mix."""
    local_share = sum(weight for _, weight in country.local_email_domains) / 100
    total = sum(weight for _, weight in GLOBAL_EMAIL_DOMAINS)
    global_part = tuple(
        (domain, (1 - local_share) * weight / total) for domain, weight in GLOBAL_EMAIL_DOMAINS
    )
    return global_part + tuple(
        (domain, weight / 100) for domain, weight in country.local_email_domains
    )


FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Emma", "Matthew", "Olivia", "Anthony", "Sophia", "Mark",
    "Isabella", "Steven", "Mia", "Paul", "Charlotte", "Andrew", "Amelia", "Joshua", "Harper",
    "Kevin", "Evelyn", "Brian", "Abigail", "George", "Emily", "Oliver", "Ella", "Harry", "Grace",
    "Jack", "Chloé", "Lucas", "Zoë", "Noah", "Léa", "Liam", "Hannah", "Ethan", "Lena", "Felix",
    "Anna", "Jonas", "Marie", "Lukas", "Julia", "Hugo", "Camille", "Louis", "Manon", "Mateo",
    "Lucía", "José", "Sofía", "Alejandro", "Valentina", "Pablo", "Martina", "Marco", "Giulia",
    "Luca", "Francesca", "Lorenzo", "Chiara", "Gabriel", "Ana", "Rafael", "Beatriz", "Arjun",
    "Priya", "Rohan", "Ananya", "Vikram", "Aisha", "Haruto", "Yui", "Sota", "Hina", "Ren",
    "Sakura", "Daan", "Sanne", "Björn", "Renée",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill", "Green",
    "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips",
    "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy",
    "O'Brien", "Kelly", "Walsh", "Byrne", "Müller", "Schmidt", "Schneider", "Fischer", "Weber",
    "Meyer", "Wagner", "Becker", "Hoffmann", "Schäfer", "Dubois", "Lefèvre", "Moreau",
    "Laurent", "Bernard", "Petit", "Durand", "García", "Martínez", "López", "González",
    "Rodríguez", "Fernández", "Pérez", "Sánchez", "Rossi", "Russo", "Ferrari", "Esposito",
    "Bianchi", "Romano", "Colombo", "Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira",
    "Sharma", "Patel", "Singh", "Gupta", "Kumar", "Sato", "Suzuki", "Takahashi", "Tanaka",
    "Watanabe", "de Vries", "van Dijk", "Jansen", "Andersson", "Johansson", "Nilsson",
    "Tremblay", "Nguyen", "Chen",
)  # fmt: skip


def email_form(name: str) -> str:
    """A name as it appears in an address: lowercase ASCII letters only ("O'Brien" -> "obrien")."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", folded.lower())


SIGNUP_AND_BROWSING_HOURS: tuple[float, ...] = (
    0.6, 0.35, 0.2, 0.15, 0.15, 0.3, 0.8, 1.6, 2.6, 3.2, 3.5, 3.7,
    4.0, 3.8, 3.6, 3.6, 3.8, 4.2, 4.8, 5.4, 5.6, 4.8, 3.2, 1.6,
)  # fmt: skip
"""Relative activity per local hour: quiet nights, a long day, an evening peak."""

PREFERRED_OPEN_HOURS: tuple[float, ...] = (
    0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 1.5, 4.5, 6.5, 5.0, 3.0, 2.5,
    3.0, 2.5, 2.0, 2.0, 2.2, 2.8, 3.8, 5.5, 6.5, 5.0, 3.0, 1.0,
)  # fmt: skip
"""How people's habitual mail-reading hour is spread: a morning and an evening peak."""
