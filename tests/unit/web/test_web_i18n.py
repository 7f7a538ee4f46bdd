"""The pages' translations and formats: complete Korean catalog, Babel's ways of writing."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from streamsettle.web import i18n
from streamsettle.web.i18n import Formats

WEB = Path(i18n.__file__).parent
PAGES = ["templates/*.html", "templates/studio/**.html"]
"""The creators' pages: studio, statements, login, dashboard (the admin console is English)."""
METHODS = [("**.py", "python"), *((pages, "jinja2") for pages in PAGES)]
JINJA = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
OPTIONS = dict.fromkeys(PAGES, JINJA)


def _source_messages() -> set[str]:
    found = set()
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), METHODS, OPTIONS, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_text_of_the_pages_has_a_korean_translation() -> None:
    po = (i18n.TRANSLATIONS / "ko" / "LC_MESSAGES" / "messages.po").read_bytes()
    catalog = read_po(io.BytesIO(po), locale="ko_KR")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = _source_messages() - translated
    assert not missing, f"untranslated (pybabel extract + update, then translate): {missing}"


def test_the_statements_login_and_dashboard_texts_are_checked() -> None:
    found = _source_messages()
    for text in ("Carried to next month", "Creator earnings", "Your earnings", "Watch logs"):
        assert text in found
    assert "Rate cards" not in found  # the admin console stays English


def test_the_catalog_is_compiled_in_memory() -> None:
    korean = i18n.translations("ko")
    assert korean.gettext("Channel analytics") == "채널 분석"
    assert korean.ngettext("%(num)s row", "%(num)s rows", 3) == "%(num)s행"
    assert i18n.translations("en").gettext("Channel analytics") == "Channel analytics"


def test_numbers_money_and_dates_per_language() -> None:
    ko, en = Formats("ko"), Formats("en")
    assert (ko.krw(Decimal(1234567)), en.krw(1234567)) == ("₩1,234,567", "₩1,234,567")
    assert ko.day(date(2026, 12, 2)) == "2026년 12월 2일"
    assert en.day(date(2026, 12, 2)) == "Dec 2, 2026"
    assert (ko.short_day(date(2026, 12, 2)), en.short_day(date(2026, 12, 2))) == (
        "12월 2일",
        "Dec 2",
    )
    assert en.hours(Decimal("1234.5")) == "1,234.5"
    assert (en.change(Decimal("0.91")), en.change(Decimal("-0.125"))) == ("+91.0%", "-12.5%")
    assert en.change(Decimal("-0.0003")) == "0.0%"  # never a red "-0.0%"
    assert (en.duration(80), en.duration(3725), en.duration(None)) == ("1:20", "1:02:05", "\u2013")
