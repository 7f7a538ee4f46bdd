"""The pages' language: Korean by default (the platform's), English on request.

A visitor picks a language with ``?lang=ko|en``; the choice is kept in a cookie. Numbers,
won amounts and dates are formatted for the language with Babel; texts are translated with
gettext from the catalogs in ``translations/`` (message ids are the English texts). The
``.po`` catalogs are the only source: each is compiled in memory the first time it is used,
so a clean clone needs no build step and no compiled file can drift from its source.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations
from fastapi import Request, Response
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

TRANSLATIONS = Path(__file__).parent / "translations"
DOMAIN = "messages"
LANGUAGES = {"ko": "ko_KR", "en": "en_US"}
"""Language code (``?lang=``, the cookie, ``<html lang>``) to the Babel locale."""
DEFAULT_LANGUAGE = "ko"
LANGUAGE_COOKIE = "streamsettle_lang"
_ONE_YEAR = 365 * 24 * 3600
NO_FIGURE = "\u2013"
"""Shown where a figure does not exist (an RPM without a view)."""


def N_(message: str) -> str:  # noqa: N802 - the usual gettext marker name
    """Marks a text for extraction; it is translated where it is shown."""
    return message


@functools.cache
def translations(language: str) -> gettext_module.NullTranslations:
    if language == "en":
        return gettext_module.NullTranslations()
    po = TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale=LANGUAGES[language])
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def choose_language(request: Request) -> tuple[str, bool]:
    """The request's language and whether it was asked for now (and must be remembered)."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked, True
    kept = request.cookies.get(LANGUAGE_COOKIE)
    if kept in LANGUAGES:
        return kept, False
    return DEFAULT_LANGUAGE, False


def remember_language(request: Request, response: Response, language: str) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=_ONE_YEAR,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def round_change(ratio: Decimal) -> Decimal:
    """A change as it is shown (0.1 % steps), so that its colour agrees with its sign."""
    return ratio.quantize(Decimal("0.001"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Formats:
    """Numbers, won and dates as the language writes them."""

    language: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(LANGUAGES[self.language])

    def num(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def krw(self, amount: int | Decimal | None) -> str:
        if amount is None:
            return NO_FIGURE
        return format_currency(amount, "KRW", locale=self.locale)

    def hours(self, value: Decimal) -> str:
        return format_decimal(value, format="#,##0.0", locale=self.locale)

    def change(self, ratio: Decimal | None) -> str:
        """A signed percentage to one decimal; ``0.0%`` when it rounds to nothing."""
        if ratio is None:
            return NO_FIGURE
        shown = round_change(ratio)
        if not shown:
            return format_percent(0, format="#,##0.0%", locale=self.locale)
        return format_percent(shown, format="+#,##0.0%;-#,##0.0%", locale=self.locale)

    def duration(self, seconds: int | None) -> str:
        """``m:ss`` (``h:mm:ss`` from an hour): how players show a length."""
        if seconds is None:
            return NO_FIGURE
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"

    def day(self, day: date) -> str:
        return format_skeleton("yMMMd", day, locale=self.locale)

    def short_day(self, day: date) -> str:
        return format_skeleton("MMMd", day, locale=self.locale)

    def long_day(self, day: date) -> str:
        return format_date(day, format="long", locale=self.locale)


def template_context(language: str) -> dict[str, Any]:
    """``_``, ``gettext`` and ``ngettext`` for this language (Jinja's new-style i18n), and ``f``.

    Passed with each render rather than installed on the environment, which every request
    shares. As in Jinja's own new-style callables, the translation is markup-safe and the
    ``%(name)s`` values are escaped.
    """
    catalog = translations(language)

    def _new_style(translate: Callable[..., str]) -> Callable[..., str]:
        @pass_context
        def call(context: Context, *args: Any, **variables: Any) -> str:
            text = translate(*args)
            if context.eval_ctx.autoescape:
                text = Markup(text)
            variables.setdefault("num", args[-1] if len(args) == 3 else None)
            return text % variables

        return call

    gettext = _new_style(catalog.gettext)
    return {
        "_": gettext,
        "gettext": gettext,
        "ngettext": _new_style(catalog.ngettext),
        "translate": catalog.gettext,
        "f": Formats(language),
        "language": language,
        "languages": list(LANGUAGES),
    }
