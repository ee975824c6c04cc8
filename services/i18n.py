"""Internationalisation helpers (French / English).

* :func:`compile_catalogues` compiles ``services/locale/<lang>/LC_MESSAGES/*.po``
  into ``<target>/<lang>/LC_MESSAGES/*.mo`` -- the layout expected by
  ``babel.support.Translations.load`` (pygeoapi ``server.locale_dir``) and by
  :func:`gettext.translation`.  ``gettext.find`` expands ``fr_FR`` to
  ``fr_FR`` then ``fr``, so a single ``fr`` catalogue serves both
  ``languages: [fr, en]`` and ``languages: [fr-FR, en-US]``.
* :func:`use_locale_dir` points pygeoapi's *Python-side* gettext lookups
  (link titles passed to ``pygeoapi.l10n.translate``) at the same directory;
  pygeoapi hard-codes that one to ``<site-packages>/locale``.
* :func:`message` renders the project's own messages in both languages: the ``errors``
  catalogues (``services/locale/{fr,en}/LC_MESSAGES/errors.po``, msgid = key), used by
  ``services.errors.OGCError``.
* :func:`bilingual` and :func:`remember` (French of pygeoapi's English exception
  messages) live in ``services.pygeoapi_messages`` and are re-exported here.
* :func:`pick_language` chooses ``"fr"`` or ``"en"`` for a request.
"""

from __future__ import annotations

import os
import string
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from services.pygeoapi_messages import bilingual, remember

__all__ = [
    'LOCALE_SOURCE_DIR', 'MESSAGES', 'SUPPORTED_LANGUAGES', 'DEFAULT_LANGUAGE',
    'compile_catalogues', 'use_locale_dir', 'bilingual', 'message',
    'pick_language', 'remember', 'catalogue', 'MESSAGES_DOMAIN',
]

#: Where the ``.po`` sources live (``services/locale``).
LOCALE_SOURCE_DIR = Path(__file__).resolve().parent / 'locale'

SUPPORTED_LANGUAGES = ('fr', 'en')
DEFAULT_LANGUAGE = 'fr'


# ---------------------------------------------------------------------------
# 1. Catalogues
# ---------------------------------------------------------------------------

def compile_catalogues(target_dir: Path, source_dir: Path | None = None) -> None:
    """Compile every ``<source_dir>/<lang>/LC_MESSAGES/<domain>.po`` into
    ``<target_dir>/<lang>/LC_MESSAGES/<domain>.mo``.

    :param target_dir: output directory, e.g. ``var/locale``; to be used as
                       pygeoapi's ``server.locale_dir``.
    :param source_dir: defaults to :data:`LOCALE_SOURCE_DIR`.
    :raises ValueError: if a catalogue has format errors (e.g. a
                        ``%(name)s`` placeholder missing from a msgstr) or no
                        catalogue was found.
    """
    source_dir = Path(source_dir) if source_dir else LOCALE_SOURCE_DIR
    target_dir = Path(target_dir)
    po_files = sorted(source_dir.glob('*/LC_MESSAGES/*.po'))
    if not po_files:
        raise ValueError(f'no .po catalogue found under {source_dir}')

    for po_path in po_files:
        lang = po_path.parent.parent.name
        with po_path.open('rb') as fp:
            catalog = read_po(fp, locale=lang, domain=po_path.stem)

        errors = [f'{po_path}:{msg.lineno}: {msg.id!r}: {err}'
                  for msg, errs in catalog.check() for err in errs]
        if errors:
            raise ValueError('invalid catalogue:\n' + '\n'.join(errors))

        out_dir = target_dir / lang / 'LC_MESSAGES'
        out_dir.mkdir(parents=True, exist_ok=True)
        # write atomically: a running server may be reading the old file
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix='.mo.tmp')
        try:
            with os.fdopen(fd, 'wb') as fp:
                write_mo(fp, catalog, use_fuzzy=False)
            os.replace(tmp, out_dir / f'{po_path.stem}.mo')
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def use_locale_dir(locale_dir: Path) -> None:
    """Make pygeoapi's Python-side gettext (``l10n.translate`` on plain
    strings: link titles such as "This document as JSON", and plain-string
    config values) read its catalogues from ``locale_dir``.

    pygeoapi hard-codes ``pygeoapi.l10n.LOCALEDIR`` to
    ``<site-packages>/locale`` (independent of ``server.locale_dir``, which
    only serves the Jinja templates).  Call once at start-up, after
    :func:`compile_catalogues`.  The patch itself: services.pygeoapi_compat.
    """
    from services.pygeoapi_compat import use_gettext_dir

    use_gettext_dir(locale_dir)


# ---------------------------------------------------------------------------
# 2. Project messages: the ``errors`` catalogues
# ---------------------------------------------------------------------------

#: Domain of the project's messages (``services/locale/<lang>/LC_MESSAGES/errors.po``):
#: ``msgid`` is the message key, ``msgstr`` the text with ``str.format`` placeholders.
MESSAGES_DOMAIN = 'errors'


@lru_cache(maxsize=None)
def catalogue(lang: str, source_dir: Path | None = None,
              domain: str = MESSAGES_DOMAIN) -> dict[str, str]:
    """``{key: text}`` of a catalogue of ``lang`` (``errors`` by default, ``messages`` for
    the pages' texts), read once per process."""
    path = (source_dir or LOCALE_SOURCE_DIR) / lang / 'LC_MESSAGES' / f'{domain}.po'
    with path.open('rb') as fp:
        catalog = read_po(fp, locale=lang, domain=domain)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string}


class PageTexts:
    """``t("fiche_title")``, ``t("fiche_state_at", date=...)``: a page's text in ``lang``
    from the ``messages`` catalogue (French when the text is missing in ``lang``, the key
    when it is missing in both); placeholders filled like :func:`message`."""

    def __init__(self, lang: str, prefix: str = ''):
        self.lang = lang if lang in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
        self.prefix = prefix

    def __call__(self, key: str, **params) -> str:
        key = self.prefix + key
        text = catalogue(self.lang, domain='messages').get(key) or \
            catalogue(DEFAULT_LANGUAGE, domain='messages').get(key) or key
        return _FORMATTER.vformat(text, (), params) if params else text


class _Messages(Mapping):
    """``MESSAGES[key] == {"fr": ..., "en": ...}``, read from the ``errors`` catalogues."""

    def __getitem__(self, key: str) -> dict[str, str]:
        found = {lang: catalogue(lang).get(key) for lang in SUPPORTED_LANGUAGES}
        if None in found.values():
            raise KeyError(key)
        return found

    def __iter__(self):
        return iter(catalogue(DEFAULT_LANGUAGE))

    def __len__(self) -> int:
        return len(catalogue(DEFAULT_LANGUAGE))


#: Every project message, in both languages (a read-only view of the catalogues).
MESSAGES: Mapping[str, dict[str, str]] = _Messages()


class _Missing:
    def __init__(self, name: str):
        self.name = name


class _Formatter(string.Formatter):
    """``str.format`` that never raises while an error response is being built: an unknown
    placeholder stays ``{name}``, a list is joined with ", ", a format spec that does not
    fit the value (``{x:g}`` given text) falls back to ``str``."""

    def get_value(self, key, args, kwargs):
        if isinstance(key, str) and key not in kwargs:
            return _Missing(key)
        return super().get_value(key, args, kwargs)

    def get_field(self, field_name, args, kwargs):
        first, _, rest = field_name.partition('.')
        if rest or '[' in first:  # no attribute or item access in messages
            return _Missing(field_name), field_name
        return super().get_field(field_name, args, kwargs)

    def format_field(self, value, format_spec):
        if isinstance(value, _Missing):
            return '{' + value.name + (':' + format_spec if format_spec else '') + '}'
        if isinstance(value, (list, tuple, set, frozenset)):
            items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
            value = ', '.join(str(v) for v in items)
        try:
            return format(value, format_spec)
        except (TypeError, ValueError):
            return str(value)


_FORMATTER = _Formatter()


def message(key: str, **kw) -> dict[str, str]:
    """Return the project message ``key`` in French and English, with
    ``str.format`` placeholders filled from ``kw`` (lists are joined with
    ", "; a value ``{"fr": ..., "en": ...}`` gives each language its own text).

    :raises KeyError: ``key`` is missing from a catalogue.
    """
    texts = MESSAGES[key]
    out = {}
    for lang in SUPPORTED_LANGUAGES:
        values = {k: (v[lang] if isinstance(v, dict) and lang in v else v)
                  for k, v in kw.items()}
        try:
            out[lang] = _FORMATTER.vformat(texts[lang], (), values)
        except (ValueError, IndexError):  # a malformed text: show it rather than fail
            out[lang] = texts[lang]
    return out


# ---------------------------------------------------------------------------
# Language negotiation
# ---------------------------------------------------------------------------

def _parse_language_ranges(value: str) -> Iterable[str]:
    """Yield the primary language subtags of an Accept-Language-like value,
    best first (by q-value, then by order); ranges with q=0 or an invalid
    q-value are dropped."""
    ranges = []
    for index, part in enumerate(value.split(',')):
        tag, *params = [p.strip() for p in part.split(';')]
        if not tag:
            continue
        q = 1.0
        for param in params:
            name, _, val = param.partition('=')
            if name.strip().lower() == 'q':
                try:
                    q = float(val.strip())
                except ValueError:
                    q = -1.0
        if not 0 < q <= 1:
            continue
        primary = tag.replace('_', '-').split('-')[0].lower()
        ranges.append((-q, index, primary))
    return [primary for _, _, primary in sorted(ranges)]


def pick_language(accept_language: str | None,
                  lang_param: str | None) -> str:
    """Choose the response language: ``"fr"`` or ``"en"``.

    The ``lang`` query parameter wins (``fr``, ``fr-FR``, ``en_US``...,
    also a comma-separated list); an unsupported value is ignored.  Then the
    ``Accept-Language`` header is used, honouring q-values (``*`` means the
    default).  Default: ``"fr"``.
    """
    for value in (lang_param, accept_language):
        if not value:
            continue
        for primary in _parse_language_ranges(value):
            if primary in SUPPORTED_LANGUAGES:
                return primary
            if primary == '*':
                return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE
