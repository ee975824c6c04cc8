"""Tests for services.i18n and the French catalogue of pygeoapi's templates."""

import ast
import json
import re
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po
from babel.support import Translations

import pygeoapi
from pygeoapi import l10n
from pygeoapi.util import render_j2_template

from services.i18n import (LOCALE_SOURCE_DIR, MESSAGES, bilingual,
                           compile_catalogues, message, pick_language,
                           use_locale_dir)

PO_FILE = LOCALE_SOURCE_DIR / 'fr' / 'LC_MESSAGES' / 'messages.po'
PYGEOAPI_DIR = Path(pygeoapi.__file__).resolve().parent


@pytest.fixture
def locale_dir(tmp_path):
    target = tmp_path / 'locale'
    compile_catalogues(target)
    return target


@pytest.fixture
def isolated_l10n(monkeypatch):
    """pygeoapi.l10n keeps process-wide caches (translated config keyed by
    locale only, gettext results, LOCALEDIR): isolate them per test."""
    monkeypatch.setattr(l10n, 'LOCALEDIR', l10n.LOCALEDIR)
    monkeypatch.setattr(l10n, '_cfg_cache', {})
    monkeypatch.setattr(l10n, '_gettext_cache', {})


def _config(locale_dir: Path) -> dict:
    return {
        'server': {
            'bind': {'host': 'localhost', 'port': 5000},
            'url': 'http://localhost:5000',
            'mimetype': 'application/json; charset=UTF-8',
            'encoding': 'utf-8',
            'languages': ['fr-FR', 'en-US'],
            'locale_dir': str(locale_dir),
            'limits': {'default_items': 10, 'max_items': 50},
            'map': {'url': 'https://tile.example.org/{z}/{x}/{y}.png',
                    'attribution': 'x'},
            'templates': {},
        },
        'logging': {'level': 'ERROR'},
        'metadata': {
            'identification': {
                'title': {'fr': 'Données de l’Artois', 'en': 'Artois data'},
                'description': 'Test',
                'keywords': ['urbanisme'],
                'keywords_type': 'theme',
                'terms_of_service': 'https://example.org/cgu',
                'url': 'https://example.org',
            },
            'license': {'name': 'Licence Ouverte 2.0',
                        'url': 'https://example.org/lo'},
            'provider': {'name': 'Agence', 'url': 'https://example.org'},
            'contact': {'name': 'SIG', 'email': 'sig@example.org',
                        'phone': '+33 3 00 00 00 00', 'hours': '9h-17h'},
        },
        'resources': {},
    }


# ---------------------------------------------------------------------------
# (a) catalogue compiled and used by pygeoapi
# ---------------------------------------------------------------------------

def test_compile_layout(locale_dir):
    assert (locale_dir / 'fr' / 'LC_MESSAGES' / 'messages.mo').is_file()
    assert not list(locale_dir.rglob('*.tmp'))


@pytest.mark.parametrize('loc', ['fr', 'fr_FR', Locale('fr'),
                                 Locale('fr', 'FR'), Locale('fr', 'CA')])
def test_translations_load_fallback(locale_dir, loc):
    # what render_j2_template does: Translations.load(locale_dir, [locale_])
    tr = Translations.load(str(locale_dir), [loc])
    assert isinstance(tr, Translations)
    expected = {
        'Collections': 'Collections',
        'Items': 'Éléments',
        'Next': 'Suivant',
        'Prev': 'Précédent',
        'Queryables': 'Requêtables',
        'Conformance': 'Conformité',
        'License': 'Licence',
        'Terms of service': 'Conditions d’utilisation',
        'Limit': 'Limite',
        'Processes': 'Traitements',
        'Jobs': 'Tâches',
        'Home': 'Accueil',
        'text_direction': 'ltr',
        'This document as JSON': 'Ce document en JSON',
    }
    for msgid, msgstr in expected.items():
        assert tr.gettext(msgid) == msgstr


def test_english_has_no_catalogue(locale_dir):
    tr = Translations.load(str(locale_dir), [Locale('en', 'US')])
    assert tr.gettext('Next') == 'Next'


@pytest.mark.usefixtures('isolated_l10n')
@pytest.mark.parametrize('loc', [Locale('fr'), Locale('fr', 'FR')])
def test_render_landing_page_fr(locale_dir, loc):
    config = _config(locale_dir)
    data = {'collection': True, 'process': True, 'jobs': True, 'tile': True,
            'links': []}
    html = render_j2_template(config, config['server']['templates'],
                              'landing_page.html', data, loc)
    assert '<html lang="fr" dir="ltr"' in html
    h2 = re.findall(r'<h2>(.*?)</h2>', html)
    assert h2 == ['Collections', 'Traitements', 'Tâches',
                  'Jeux de matrices de tuiles', 'Définition de l’API',
                  'Conformité']
    for text in ('Accueil', 'Conditions d’utilisation', 'Licence',
                 'Voir les collections de ce service', 'Fournisseur',
                 'Point de contact', 'Courriel', 'Téléphone', 'Horaires',
                 'Propulsé par', 'Données de l’Artois'):
        assert text in html, text


@pytest.mark.usefixtures('isolated_l10n')
def test_render_landing_page_en(locale_dir):
    config = _config(locale_dir)
    html = render_j2_template(config, config['server']['templates'],
                              'landing_page.html', {'links': []},
                              Locale('en', 'US'))
    assert 'Conformance' in html and 'Conformité' not in html
    assert 'Artois data' in html


@pytest.mark.usefixtures('isolated_l10n')
def test_api_landing_page_end_to_end(locale_dir):
    """Full pygeoapi API: lang negotiation, HTML template and the link
    titles that pygeoapi translates in Python (l10n.translate)."""
    from starlette.requests import Request
    from pygeoapi.api import API, APIRequest, landing_page

    use_locale_dir(locale_dir)
    api = API(_config(locale_dir), {})

    def call(query: str, headers=()):
        scope = {'type': 'http', 'method': 'GET', 'path': '/',
                 'query_string': query.encode(),
                 'headers': [(k.encode(), v.encode()) for k, v in headers]}
        return landing_page(api, APIRequest(Request(scope), api.locales))

    _, _, content = call('f=json')
    titles = [link['title'] for link in json.loads(content)['links']]
    assert 'Ce document en JSON' in titles
    assert 'Conformité' in titles

    _, _, content = call('f=json&lang=en')
    assert 'This document as JSON' in [
        link['title'] for link in json.loads(content)['links']]

    headers, _, content = call('f=html', [('accept-language', 'fr-FR')])
    assert headers['Content-Language'] == 'fr-FR'
    assert 'Conformité' in content


# ---------------------------------------------------------------------------
# (b) catalogue completeness
# ---------------------------------------------------------------------------

def _catalog():
    with PO_FILE.open('rb') as fp:
        return read_po(fp, locale='fr')


def test_every_msgid_translated():
    catalog = _catalog()
    messages = [m for m in catalog if m.id]
    assert len(messages) > 150
    for msg in messages:
        assert isinstance(msg.string, str) and msg.string.strip(), msg.id
        assert not msg.fuzzy, msg.id
        # placeholders kept
        assert (sorted(re.findall(r'%\(\w+\)s', msg.id))
                == sorted(re.findall(r'%\(\w+\)s', msg.string))), msg.id
        # rendered unescaped (Markup) and sometimes inside '...' JavaScript
        # strings or "..." attributes: no ASCII quote or markup character
        assert not set(msg.string) & set('\'"<>&'), msg.id
    assert list(catalog.check()) == []


def test_catalogue_covers_templates():
    from babel.messages.extract import extract_from_dir
    catalog = _catalog()
    template_ids = {
        msg for _, _, msg, _, _ in extract_from_dir(
            str(PYGEOAPI_DIR / 'templates'),
            method_map=[('**.html', 'jinja2')],
            options_map={'**.html': {'extensions': 'jinja2.ext.i18n'}})}
    missing = sorted(m for m in template_ids if m not in catalog)
    assert not missing


def test_catalogue_covers_python_link_titles():
    catalog = _catalog()
    missing = []
    for py in (PYGEOAPI_DIR / 'api').glob('*.py'):
        for node in ast.walk(ast.parse(py.read_text())):
            if (isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == 'translate'
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and node.args[0].value not in catalog):
                missing.append(node.args[0].value)
    assert not missing


def test_compile_rejects_broken_placeholder(tmp_path):
    src = tmp_path / 'src' / 'fr' / 'LC_MESSAGES'
    src.mkdir(parents=True)
    (src / 'messages.po').write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        '#, python-format\nmsgid "%(name)s items"\nmsgstr "%(nom)s éléments"\n',
        encoding='utf-8')
    with pytest.raises(ValueError):
        compile_catalogues(tmp_path / 'out', source_dir=tmp_path / 'src')


# ---------------------------------------------------------------------------
# (c) bilingual exception messages
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('en, fr', [
    ('Collection not found', 'Collection introuvable'),
    ('Invalid format requested', 'Format demandé invalide'),
    ('identifier not found', 'Identifiant introuvable'),
    ('Identifier not found', 'Identifiant introuvable'),
    ('bbox values must be numbers',
     'Les valeurs de bbox doivent être des nombres'),
    ('bbox should be either 4 values (minx,miny,maxx,maxy) or 6 values '
     '(minx,miny,minz,maxx,maxy,maxz)',
     'bbox doit comporter soit 4 valeurs (minx,miny,maxx,maxy), soit 6 '
     'valeurs (minx,miny,minz,maxx,maxy,maxz)'),
    ('datetime parameter out of range',
     "Paramètre datetime hors de l'étendue temporelle de la collection"),
    ('offset value should be positive or zero',
     'La valeur de offset doit être positive ou nulle'),
    ('limit value should be strictly positive',
     'La valeur de limit doit être strictement positive'),
    ('Limit of 50 exceeded', 'Limite de 50 dépassée'),
    ('Bad CQL text', 'Texte CQL invalide'),
    ('job still running', 'La tâche est toujours en cours'),
    ('query error (check logs)', 'Erreur de requête (voir les journaux)'),
    ('bbox-crs http://www.opengis.net/def/crs/EPSG/0/9999 not supported for '
     'this collection',
     'bbox-crs http://www.opengis.net/def/crs/EPSG/0/9999 non pris en charge '
     'pour cette collection'),
    ("CRS 'http://www.opengis.net/def/crs/EPSG/0/2154' not supported for this "
     'collection. List of supported CRSs: '
     'http://www.opengis.net/def/crs/OGC/1.3/CRS84, '
     'http://www.opengis.net/def/crs/EPSG/0/4326.',
     "CRS 'http://www.opengis.net/def/crs/EPSG/0/2154' non pris en charge pour "
     'cette collection. Liste des CRS pris en charge : '
     'http://www.opengis.net/def/crs/OGC/1.3/CRS84, '
     'http://www.opengis.net/def/crs/EPSG/0/4326.'),
    ("CRS could not be identified from URI 'EPSG:2154'",
     "Impossible d'identifier le CRS à partir de l'URI 'EPSG:2154'"),
    ('Invalid subset: Invalid format: subset should be like '
     'axis("min"[:"max"])',
     'Sous-ensemble (subset) invalide : Format invalide : subset doit être de '
     'la forme axe("min"[:"max"])'),
    ('Unknown string format: hier', 'Format de date inconnu : hier'),
    ('month must be in 1..12: 2024-13-01',
     'Le mois doit être compris entre 1 et 12 : 2024-13-01'),
])
def test_bilingual_known(en, fr):
    assert bilingual(en) == {'fr': fr, 'en': en}


def test_bilingual_crs_uri_help():
    en = ("CRS could not be identified from URI 'foo'. CRS URIs must follow "
          'one of two formats: '
          '"http://www.opengis.net/def/crs/{authority}/{version}/{code}" or '
          '"urn:ogc:def:crs:{authority}:{version}:{code}" (see '
          'https://docs.opengeospatial.org/is/18-058r1/18-058r1.html'
          '#crs-overview).')
    out = bilingual(en)
    assert out['en'] == en
    assert out['fr'].startswith(
        "Impossible d'identifier le CRS à partir de l'URI 'foo'. ")
    assert 'urn:ogc:def:crs:{authority}:{version}:{code}' in out['fr']


def test_bilingual_unknown():
    assert bilingual('Something new happened') == {
        'fr': 'Requête invalide : Something new happened',
        'en': 'Something new happened'}
    assert bilingual('boom', code='NotFound')['fr'] == \
        'Ressource introuvable : boom'
    assert bilingual('0b8c-42', code='NoSuchJob') == {
        'fr': 'Tâche introuvable : 0b8c-42', 'en': 'Job not found: 0b8c-42'}
    for value in ('', None):
        out = bilingual(value)
        assert out['fr'] and out['en']


def _pygeoapi_messages():
    """Fixed and f-string messages from pygeoapi's sources (f-string parts
    replaced by 'XYZ')."""

    def text(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return ''.join(v.value if isinstance(v, ast.Constant) else 'XYZ'
                           for v in node.values)
        return None

    files = ['api/__init__.py', 'api/itemtypes.py', 'api/collection.py',
             'api/coverages.py', 'api/tiles.py', 'api/processes.py',
             'provider/base.py', 'provider/tile.py', 'crs.py',
             'formatter/csv_.py', 'process/manager/base.py']
    found = set()
    for rel in files:
        for node in ast.walk(ast.parse((PYGEOAPI_DIR / rel).read_text())):
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id in ('msg', 'default_msg')
                    for t in node.targets):
                found.add(text(node.value))
            elif (isinstance(node, ast.Call) and node.args
                  and getattr(node.func, 'attr', None) == 'get_exception'):
                found.add(text(node.args[-1]))
            elif (isinstance(node, ast.Raise)
                  and isinstance(node.exc, ast.Call) and node.exc.args):
                found.add(text(node.exc.args[0]))
    found.discard(None)
    # logged only, never returned to the client
    found -= {'Could not publish message XYZ',
              # API constructor misconfiguration, not a request error
              'XYZ must be initializedwith a list of valid supported locales'}
    return sorted(found)


def test_all_pygeoapi_messages_translated():
    messages = _pygeoapi_messages()
    assert len(messages) > 50
    untranslated = [m for m in messages
                    if bilingual(m)['fr'].startswith('Requête invalide :')]
    assert not untranslated


# ---------------------------------------------------------------------------
# project messages
# ---------------------------------------------------------------------------

def test_message():
    assert message('invalid_limit', max=1000) == {
        'fr': 'limit doit être un entier entre 1 et 1000',
        'en': 'limit must be an integer between 1 and 1000'}
    assert message('invalid_format', f='xml', allowed=['json', 'html']) == {
        'fr': 'Format non pris en charge : xml. Formats possibles : json, html',
        'en': 'Unsupported format: xml. Allowed formats: json, html'}
    assert message('not_found') == {'fr': 'Ressource introuvable',
                                    'en': 'Resource not found'}
    # a missing placeholder must not raise while building an error response
    assert message('unknown_property')['en'] == 'Unknown property: {name}'
    with pytest.raises(KeyError):
        message('no_such_key')


def test_messages_consistent():
    required = {'not_found', 'internal_error', 'invalid_limit',
                'invalid_bbox', 'invalid_crs', 'invalid_filter',
                'unknown_property', 'invalid_format', 'method_not_allowed',
                'payload_too_large', 'timeout', 'invalid_datetime',
                'invalid_offset'}
    assert required <= MESSAGES.keys()
    for key, texts in MESSAGES.items():
        assert set(texts) == {'fr', 'en'}, key
        assert texts['fr'] != texts['en'], key
        names = [sorted(re.findall(r'\{(\w+)\}', t)) for t in texts.values()]
        assert names[0] == names[1], key


# ---------------------------------------------------------------------------
# (d) language negotiation
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('accept, lang, expected', [
    (None, None, 'fr'),
    ('', '', 'fr'),
    ('en', None, 'en'),
    ('en-US,en;q=0.9', None, 'en'),
    ('fr-FR,fr;q=0.9,en;q=0.8', None, 'fr'),
    ('en;q=0.5,fr;q=0.8', None, 'fr'),
    ('de-DE,de;q=0.9,en;q=0.7,fr;q=0.3', None, 'en'),
    ('de', None, 'fr'),
    ('*', None, 'fr'),
    ('fr;q=0, en', None, 'en'),
    ('en;q=abc, fr', None, 'fr'),
    ('en-GB', 'fr', 'fr'),
    ('fr', 'en', 'en'),
    ('fr', 'en-US', 'en'),
    ('fr', 'EN_us', 'en'),
    ('en', 'fr-FR', 'fr'),
    ('en', 'de', 'en'),
    (None, 'xx', 'fr'),
])
def test_pick_language(accept, lang, expected):
    assert pick_language(accept, lang) == expected
