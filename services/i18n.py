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
* :func:`bilingual` turns an English pygeoapi exception description into
  ``{"fr": ..., "en": ...}``.
* :func:`message` renders the project's own bilingual messages.
* :func:`pick_language` chooses ``"fr"`` or ``"en"`` for a request.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterable

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = [
    'LOCALE_SOURCE_DIR', 'MESSAGES', 'SUPPORTED_LANGUAGES', 'DEFAULT_LANGUAGE',
    'compile_catalogues', 'use_locale_dir', 'bilingual', 'message',
    'pick_language', 'remember',
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
    :func:`compile_catalogues`.
    """
    from pygeoapi import l10n

    l10n.LOCALEDIR = Path(locale_dir).resolve()
    l10n._gettext_cache.clear()
    l10n._cfg_cache.clear()


# ---------------------------------------------------------------------------
# 2. Bilingual exception messages
# ---------------------------------------------------------------------------

# Exact English messages emitted by pygeoapi 0.24 (api/*.py, provider/*.py,
# process/*.py, crs.py, formatter/*.py, pubsub/base.py).  Query parameter
# names (bbox, limit, offset, datetime, sortby...) are left untranslated.
_EXACT: dict[str, str] = {
    # api/__init__.py
    'Invalid format requested': 'Format demandé invalide',
    'AsyncAPI not supported/configured':
        "AsyncAPI n'est pas pris en charge ou pas configuré",
    'Collection not found': 'Collection introuvable',
    'Error generating collection':
        'Erreur lors de la génération de la collection',
    'bbox should be either 4 values (minx,miny,maxx,maxy) '
    'or 6 values (minx,miny,minz,maxx,maxy,maxz)':
        'bbox doit comporter soit 4 valeurs (minx,miny,maxx,maxy), '
        'soit 6 valeurs (minx,miny,minz,maxx,maxy,maxz)',
    'bbox values must be numbers': 'Les valeurs de bbox doivent être des nombres',
    'miny should be less than maxy': 'miny doit être inférieur à maxy',
    'minx is greater than maxx (possibly antimeridian bbox)':
        "minx est supérieur à maxx (bbox franchissant peut-être "
        "l'antiméridien)",
    'minz should be less than maxz': 'minz doit être inférieur à maxz',
    'Configured times should be RFC3339':
        'Les dates configurées doivent être au format RFC 3339',
    'datetime parameter out of range':
        "Paramètre datetime hors de l'étendue temporelle de la collection",
    'Invalid format: subset should be like axis("min"[:"max"])':
        'Format invalide : subset doit être de la forme axe("min"[:"max"])',
    'limit value should be an integer': 'La valeur de limit doit être un entier',
    'limit value should be strictly positive':
        'La valeur de limit doit être strictement positive',
    # api/itemtypes.py
    'queryables not available for this collection':
        'Requêtables non disponibles pour cette collection',
    'unknown properties specified': 'Propriétés demandées inconnues',
    'offset value should be positive or zero':
        'La valeur de offset doit être positive ou nulle',
    'offset value should be an integer': 'La valeur de offset doit être un entier',
    'server.limit is no longer supported! Please use limits at the server '
    'or collection level (RFC5)':
        "server.limit n'est plus pris en charge ! Utilisez limits au niveau "
        "du serveur ou de la collection (RFC5)",
    'Invalid provider type': 'Type de fournisseur invalide',
    'bbox-crs specified without bbox parameter':
        'bbox-crs spécifié sans paramètre bbox',
    'bbox-crs specified but is empty': 'bbox-crs spécifié mais vide',
    'bad sortby property': 'Propriété sortby invalide',
    'Bad CQL text': 'Texte CQL invalide',
    'Bad CQL JSON': 'CQL JSON invalide',
    'Invalid filter language': 'Langage de filtre invalide',
    'Error serializing output': 'Erreur lors de la sérialisation de la réponse',
    'Collection is not editable': "La collection n'est pas modifiable",
    'No data found': 'Aucune donnée trouvée',
    'identifier not found': 'Identifiant introuvable',
    # api/coverages.py
    'collection does not exist': "La collection n'existe pas",
    'Invalid field specified': 'Champ spécifié invalide',
    'Invalid axis name': "Nom d'axe invalide",
    # api/tiles.py, provider/tile.py
    'Invalid collection tiles': 'Tuiles de collection invalides',
    'Tile not found': 'Tuile introuvable',
    'Tile not found (check logs)': 'Tuile introuvable (voir les journaux)',
    'Tileset id not found': 'Identifiant de jeu de tuiles introuvable',
    'could not find this tilematrixset':
        'Impossible de trouver ce jeu de matrices de tuiles (tilematrixset)',
    # api/processes.py, process/manager/base.py
    'missing request data': 'Données de la requête manquantes',
    'invalid request data': 'Données de la requête invalides',
    'Missing successUri': 'successUri manquant',
    'job still running': 'La tâche est toujours en cours',
    'job accepted but not yet running': 'Tâche acceptée mais pas encore démarrée',
    'job failed': 'La tâche a échoué',
    'Invalid process identifier': 'Identifiant de traitement invalide',
    'URL not allowed': 'URL non autorisée',
    # api/environmental_data_retrieval.py
    'Invalid instance identifier': "Identifiant d'instance invalide",
    'Instance not found': 'Instance introuvable',
    'Unsupported query type': 'Type de requête non pris en charge',
    'Invalid parameter-name': 'parameter-name invalide',
    'missing coords parameter': 'Paramètre coords manquant',
    'invalid coords parameter': 'Paramètre coords invalide',
    'bbox parameter required by cube queries':
        'Le paramètre bbox est obligatoire pour les requêtes cube',
    # api/maps.py
    'No properties implemented': 'Aucune propriété disponible',
    # api/stac.py
    'No STAC API collections configured':
        "Aucune collection d'API STAC configurée",
    'No configured STAC searchable collection':
        'Aucune collection STAC interrogeable configurée',
    'resource not found': 'Ressource introuvable',
    'data query error': "Erreur lors de l'interrogation des données",
    # api/admin.py
    'Schema validation error': 'Erreur de validation du schéma',
    # error.py, provider/base.py, process/base.py, pubsub/base.py
    'Unknown error': 'Erreur inconnue',
    'generic error (check logs)': 'Erreur générique (voir les journaux)',
    'connection error (check logs)': 'Erreur de connexion (voir les journaux)',
    'query error': 'Erreur de requête',
    'query error (check logs)': 'Erreur de requête (voir les journaux)',
    'Invalid data': 'Données invalides',
    'Invalid JSON data': 'Données JSON invalides',
    'Missing identifier (id or properties.identifier)':
        'Identifiant manquant (id ou properties.identifier)',
    'Missing core GeoJSON geometry or properties':
        'Membre geometry ou properties GeoJSON manquant',
    'record already exists': "L'enregistrement existe déjà",
    'name/type/data are required':
        'name, type et data sont obligatoires (configuration du fournisseur)',
    'Pub/Sub client connection error (check logs)':
        'Erreur de connexion du client Pub/Sub (voir les journaux)',
    'Pub/Sub client subscription error (check logs)':
        "Erreur d'abonnement du client Pub/Sub (voir les journaux)",
    'Pub/Sub client publish error (check logs)':
        'Erreur de publication du client Pub/Sub (voir les journaux)',
    # crs.py
    'Invalid uri scheme': "Schéma d'URI invalide",
    'Invalid uri prefix': "Préfixe d'URI invalide",
    'Invalid uri fragments': "Fragments d'URI invalides",
    'Not an uri': "Ce n'est pas une URI",
    'Unsupported CRS': 'CRS non pris en charge',
    # formatter/csv_.py
    'Error writing CSV output': "Erreur lors de l'écriture de la sortie CSV",
}

# case-insensitive lookup ('Identifier not found' / 'identifier not found',
# 'Invalid provider type' / 'invalid provider type', ...)
_EXACT_FOLDED = {k.casefold(): v for k, v in _EXACT.items()}

# dateutil "<unit> must be in a..b" -> (French subject, agreed participle)
_DATEUTIL_UNITS = {'year': ("L'année", 'comprise'),
                   'month': ('Le mois', 'compris'),
                   'day': ('Le jour', 'compris'),
                   'hour': ("L'heure", 'comprise'),
                   'minute': ('La minute', 'comprise'),
                   'second': ('La seconde', 'comprise')}

_CRS_URI_HELP_FR = (
    'Les URI de CRS doivent suivre l\'un des deux formats : '
    '"http://www.opengis.net/def/crs/{authority}/{version}/{code}" ou '
    '"urn:ogc:def:crs:{authority}:{version}:{code}" '
    '(voir https://docs.opengeospatial.org/is/18-058r1/18-058r1.html'
    '#crs-overview).')


# Project messages that leave through pygeoapi, which keeps only the English text (e.g. a
# process error raised as pygeoapi's ProcessorExecuteError): remember() records their French
# so that bilingual() gives it back when the OGC exception is rewritten (same process).
_REMEMBERED: dict[str, str] = {}
_REMEMBERED_MAX = 2048
_REMEMBERED_LOCK = threading.Lock()


def remember(texts: dict[str, str]) -> dict[str, str]:
    """Record ``{"fr", "en"}`` so that ``bilingual(texts["en"])`` returns this French text.

    Returns ``texts`` unchanged; keeps the most recent :data:`_REMEMBERED_MAX` entries."""
    en, fr = (texts.get('en') or '').strip(), texts.get('fr')
    if en and fr:
        with _REMEMBERED_LOCK:
            _REMEMBERED.pop(en, None)
            _REMEMBERED[en] = fr
            while len(_REMEMBERED) > _REMEMBERED_MAX:
                _REMEMBERED.pop(next(iter(_REMEMBERED)))
    return texts


def _fr(text: str) -> str | None:
    """French translation of a known pygeoapi message, else None."""
    text = text.strip()
    found = (_REMEMBERED.get(text) or _EXACT.get(text)
             or _EXACT_FOLDED.get(text.casefold()))
    if found:
        return found
    for pattern, template in _PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            return template(m) if callable(template) else m.expand(template)
    return None


def _nested(m: re.Match, group: str = 'err') -> str:
    """Translate an embedded message (e.g. ``Invalid subset: {err}``)."""
    inner = m.group(group)
    return _fr(inner) or inner


# Messages built with f-strings: (regex, template).  Templates are either a
# ``re.Match.expand`` string (``\g<name>``) or a callable(match) -> str.
_PATTERNS: list[tuple[re.Pattern, str | Callable[[re.Match], str]]] = [
    (re.compile(r'CRS (?P<crs>.+?) not supported for this collection\. '
                r'List of supported CRSs: (?P<crs_list>.*?)\.?', re.S),
     r'CRS \g<crs> non pris en charge pour cette collection. '
     r'Liste des CRS pris en charge : \g<crs_list>.'),
    (re.compile(r'CRS could not be identified from URI (?P<uri>.+?)\. '
                r'CRS URIs must follow one of two formats: .*', re.S),
     lambda m: "Impossible d'identifier le CRS à partir de l'URI "
               f"{m['uri']}. {_CRS_URI_HELP_FR}"),
    (re.compile(r'CRS could not be identified from URI (?P<uri>.+)', re.S),
     r"Impossible d'identifier le CRS à partir de l'URI \g<uri>"),
    (re.compile(r'bbox-crs (?P<crs>.+?) not supported for this collection',
                re.S),
     r'bbox-crs \g<crs> non pris en charge pour cette collection'),
    (re.compile(r'Limit of (?P<max>.+?) exceeded'),
     r'Limite de \g<max> dépassée'),
    (re.compile(r'Invalid subset: (?P<err>.*)', re.S),
     lambda m: f'Sous-ensemble (subset) invalide : {_nested(m)}'),
    (re.compile(r'Subset not found; valid values are (?P<values>.*)', re.S),
     r'Sous-ensemble (subset) introuvable ; valeurs possibles : \g<values>'),
    (re.compile(r'Invalid property; valid property names are (?P<names>.*)',
                re.S),
     r'Propriété invalide ; noms de propriétés possibles : \g<names>'),
    (re.compile(r'Resource exists: (?P<id>.*)', re.S),
     r'La ressource existe déjà : \g<id>'),
    (re.compile(r'Resource not found: (?P<id>.*)', re.S),
     r'Ressource introuvable : \g<id>'),
    (re.compile(r'Unknown STAC type (?P<type>.*)', re.S),
     r'Type STAC inconnu : \g<type>'),
    (re.compile(r'Could not publish message (?P<err>.*)', re.S),
     lambda m: f'Impossible de publier le message : {_nested(m)}'),
    # validate_datetime: dateutil.parser.ParserError texts
    (re.compile(r'Unknown string format: (?P<value>.*)', re.S),
     r'Format de date inconnu : \g<value>'),
    (re.compile(r'String does not contain a date: (?P<value>.*)', re.S),
     r'La chaîne ne contient pas de date : \g<value>'),
    (re.compile(r'day is out of range for month: (?P<value>.*)', re.S),
     r'Jour hors limites pour ce mois : \g<value>'),
    (re.compile(r'(?P<unit>year|month|day|hour|minute|second) must be in '
                r'(?P<lo>\d+)\.\.(?P<hi>\d+)(?:: (?P<value>.*))?', re.S),
     lambda m: ("{0} doit être {1} ".format(*_DATEUTIL_UNITS[m['unit']])
                + f"entre {m['lo']} et {m['hi']}"
                + (f" : {m['value']}" if m['value'] is not None else ''))),
]

# Messages of this project's providers and CQL2 translator (services/).
_FILTER_DETAILS = {
    'unknown property': 'propriété inconnue',
    'unsupported function': 'fonction non prise en charge',
    'unsupported CQL2 operator': 'opérateur CQL2 non pris en charge',
    'unsupported temporal operator': 'opérateur temporel non pris en charge',
}
_PATTERNS += [
    (re.compile(r"item (?P<id>.+) not found", re.S), r"Élément \g<id> introuvable"),
    (re.compile(r"Invalid value for property (?P<name>\S+): (?P<value>.*)", re.S),
     r"Valeur invalide pour la propriété \g<name> : \g<value>"),
    (re.compile(r"query timeout \((?P<s>[\d.]+) s\)"),
     r"La requête a dépassé le temps maximal autorisé (\g<s> s)"),
    (re.compile(r"Invalid CQL2 filter: (?P<what>[^:]+): (?P<detail>.*)", re.S),
     lambda m: "Filtre CQL2 invalide : "
               f"{_FILTER_DETAILS.get(m['what'], m['what'])} : {m['detail']}"),
    (re.compile(r"Invalid CQL2 filter: (?P<detail>.*)", re.S),
     r"Filtre CQL2 invalide : \g<detail>"),
]

# Generic French prefixes for messages we do not know, by OGC exception code.
_GENERIC_PREFIX = {
    'NotFound': 'Ressource introuvable',
    'NoSuchJob': 'Tâche introuvable',
    'NoSuchProcess': 'Traitement introuvable',
    'JobResultNotFound': 'Résultat de tâche introuvable',
    'ResultNotReady': 'Résultat pas encore disponible',
    'NoApplicableCode': 'Erreur',
    'InternalError': 'Erreur interne du serveur',
    'ServerError': 'Erreur interne du serveur',
}
_DEFAULT_PREFIX = 'Requête invalide'

# Codes for which pygeoapi passes a bare job id as the description.
_BARE_ID_CODES = {
    'NoSuchJob': 'Job not found',
    'JobResultNotFound': 'Job result not found',
}


def bilingual(description: str, code: str | None = None) -> dict[str, str]:
    """Return ``{"fr": ..., "en": ...}`` for a pygeoapi exception description.

    Known English pygeoapi messages (fixed strings and f-strings, whose
    variable parts are kept) are translated; unknown ones get a generic
    French prefix followed by the English text, so ``fr`` is never empty.

    :param description: the ``description`` of a pygeoapi OGC exception.
    :param code: optional OGC exception ``code`` (``NotFound``,
                 ``NoSuchJob``...), used to choose a better generic prefix.
    """
    en = '' if description is None else str(description).strip()
    fr = _fr(en) if en else None
    if fr is not None:
        return {'fr': fr, 'en': en}

    prefix = _GENERIC_PREFIX.get(code or '', _DEFAULT_PREFIX)
    if code in _BARE_ID_CODES and en and ' ' not in en:
        # pygeoapi passes the bare job id as description for these codes
        return {'fr': f'{prefix} : {en}', 'en': f'{_BARE_ID_CODES[code]}: {en}'}
    if not en:
        return {'fr': 'Erreur inconnue', 'en': 'Unknown error'}
    return {'fr': f'{prefix} : {en}', 'en': en}


# ---------------------------------------------------------------------------
# Project messages
# ---------------------------------------------------------------------------

MESSAGES: dict[str, dict[str, str]] = {
    'not_found': {
        'fr': 'Ressource introuvable',
        'en': 'Resource not found',
    },
    'internal_error': {
        'fr': "Erreur interne du serveur ; l'incident est journalisé",
        'en': 'Internal server error; the incident has been logged',
    },
    'invalid_limit': {
        'fr': 'limit doit être un entier entre 1 et {max}',
        'en': 'limit must be an integer between 1 and {max}',
    },
    'invalid_bbox': {
        'fr': 'Paramètre bbox invalide : 4 nombres attendus '
              '(minx,miny,maxx,maxy) ou 6 (minx,miny,minz,maxx,maxy,maxz), '
              'avec min ≤ max',
        'en': 'Invalid bbox parameter: expected 4 numbers '
              '(minx,miny,maxx,maxy) or 6 (minx,miny,minz,maxx,maxy,maxz), '
              'with min ≤ max',
    },
    'invalid_crs': {
        'fr': 'CRS inconnu ou non pris en charge : {crs}',
        'en': 'Unknown or unsupported CRS: {crs}',
    },
    'invalid_filter': {
        'fr': 'Filtre CQL2 invalide : {detail}',
        'en': 'Invalid CQL2 filter: {detail}',
    },
    'unknown_property': {
        'fr': 'Propriété inconnue : {name}',
        'en': 'Unknown property: {name}',
    },
    'invalid_format': {
        'fr': 'Format non pris en charge : {f}. Formats possibles : {allowed}',
        'en': 'Unsupported format: {f}. Allowed formats: {allowed}',
    },
    'method_not_allowed': {
        'fr': 'Méthode HTTP non autorisée pour cette ressource',
        'en': 'HTTP method not allowed for this resource',
    },
    'payload_too_large': {
        'fr': 'Corps de la requête trop volumineux',
        'en': 'Request payload too large',
    },
    'timeout': {
        'fr': 'La requête a dépassé le temps maximal autorisé',
        'en': 'The request exceeded the maximum allowed time',
    },
    'database_unavailable': {
        'fr': 'La base de données est momentanément indisponible ; réessayez dans '
              'quelques secondes',
        'en': 'The database is temporarily unavailable; try again in a few seconds',
    },
    'invalid_datetime': {
        'fr': 'Paramètre datetime invalide : date ou intervalle RFC 3339 '
              'attendu (ex. 2024-01-31, 2024-01-01T00:00:00Z/.. )',
        'en': 'Invalid datetime parameter: expected an RFC 3339 date or '
              'interval (e.g. 2024-01-31, 2024-01-01T00:00:00Z/.. )',
    },
    'invalid_request': {
        'fr': 'Requête invalide',
        'en': 'Invalid request',
    },
    'unsupported_media_type': {
        'fr': 'Type de contenu non pris en charge : {ctype}',
        'en': 'Unsupported content type: {ctype}',
    },
    # -- the edge (services/edge.py): query strings and bodies checked once
    'edge_invalid': {
        'fr': 'Paramètre {name} invalide : {value} (attendu : {expected})',
        'en': 'Invalid parameter {name}: {value} (expected: {expected})',
    },
    'edge_body_not_utf8': {
        'fr': "Le corps de la requête n'est pas encodé en UTF-8",
        'en': 'The request body is not UTF-8',
    },
    'edge_body_not_json': {
        'fr': "Le corps de la requête n'est pas du JSON valide",
        'en': 'The request body is not valid JSON',
    },
    'edge_body_too_deep': {
        'fr': 'Le corps de la requête est imbriqué trop profondément (au plus {max} niveaux)',
        'en': 'The request body is nested too deeply (at most {max} levels)',
    },
    'edge_body_nul': {
        'fr': 'Le corps de la requête contient un caractère NUL, refusé',
        'en': 'The request body holds a NUL character, which is refused',
    },
    'edge_body_not_finite': {
        'fr': 'Le corps de la requête contient un nombre infini ou NaN, refusé',
        'en': 'The request body holds an infinite or NaN number, which is refused',
    },
    'edge_cql2_list': {
        'fr': 'Filtre CQL2 : une liste a plus de {max} valeurs',
        'en': 'CQL2 filter: a list holds more than {max} values',
    },
    'edge_unknown': {
        'fr': 'Paramètre inconnu : {name}. Paramètres possibles ici : {allowed}',
        'en': 'Unknown parameter: {name}. Parameters accepted here: {allowed}',
    },
    'edge_unknown_property': {
        'fr': 'Paramètre inconnu : {name} (ni un paramètre de la requête, ni une propriété '
              'de la collection). Propriétés : {allowed}',
        'en': 'Unknown parameter: {name} (neither a query parameter nor a property of the '
              'collection). Properties: {allowed}',
    },
    'edge_query_too_long': {
        'fr': 'Chaîne de requête trop longue (au plus {max} octets) : utilisez POST pour '
              'les filtres volumineux',
        'en': 'Query string too long (at most {max} bytes): use POST for large filters',
    },
    'edge_not_utf8': {
        'fr': "La chaîne de requête n'est pas de l'UTF-8 valide",
        'en': 'The query string is not valid UTF-8',
    },
    'edge_too_many': {
        'fr': 'Trop de paramètres (au plus {max})',
        'en': 'Too many parameters (at most {max})',
    },
    'edge_control': {
        'fr': 'Le paramètre {name} contient un caractère de contrôle (NUL…), refusé',
        'en': 'Parameter {name} holds a control character (NUL…), which is refused',
    },
    'invalid_offset': {
        'fr': 'offset doit être un entier positif ou nul',
        'en': 'offset must be a non-negative integer',
    },
    # -- Features Part 4 (services/transactions.py, services/auth.py), imports
    #    (services/importer.py) and the shared feature validation (services/writers.py)
    'auth_required': {
        'fr': "Authentification requise : envoyez une clé d'API (en-tête X-API-Key) "
              'ou un jeton (Authorization: Bearer …)',
        'en': 'Authentication required: send an API key (X-API-Key header) '
              'or a token (Authorization: Bearer …)',
    },
    'auth_invalid': {
        'fr': "Clé d'API ou jeton inconnu",
        'en': 'Unknown API key or token',
    },
    'auth_forbidden': {
        'fr': 'Droits insuffisants : le rôle {role} ne permet pas cette opération '
              '(rôle requis : {required})',
        'en': 'Insufficient rights: role {role} may not do this (required role: {required})',
    },
    'if_match_required': {
        'fr': "En-tête If-Match obligatoire : lisez l'élément (GET) et renvoyez son ETag",
        'en': 'If-Match header required: read the item (GET) and send back its ETag',
    },
    'etag_mismatch': {
        'fr': "L'élément {id} a changé depuis votre lecture (ETag périmé) : "
              'relisez-le avant de le modifier',
        'en': 'Item {id} changed since you read it (stale ETag): read it again before editing',
    },
    'not_editable': {
        'fr': "La collection {collection} n'est pas modifiable",
        'en': 'Collection {collection} is not editable',
    },
    'collection_not_found': {
        'fr': 'Collection inconnue : {collection}',
        'en': 'Unknown collection: {collection}',
    },
    'collection_not_built': {
        'fr': 'La collection {collection} est absente du stockage : lancez `artois-geo build`',
        'en': 'Collection {collection} is missing from the store: run `artois-geo build`',
    },
    'feature_not_found': {
        'fr': 'Élément {id} introuvable dans la collection {collection}',
        'en': 'Item {id} not found in collection {collection}',
    },
    'feature_exists': {
        'fr': "L'identifiant {id} existe déjà dans la collection {collection}",
        'en': 'Identifier {id} already exists in collection {collection}',
    },
    'feature_rejected': {
        'fr': 'Élément refusé',
        'en': 'Feature rejected',
    },
    'invalid_json': {
        'fr': 'Corps de requête JSON invalide : {detail}',
        'en': 'Invalid JSON body: {detail}',
    },
    'not_a_feature': {
        'fr': 'Le corps de la requête doit être une Feature GeoJSON',
        'en': 'The request body must be a GeoJSON Feature',
    },
    'invalid_patch': {
        'fr': "Le corps d'un PATCH doit être un objet JSON (merge-patch) avec "
              'properties et/ou geometry',
        'en': 'A PATCH body must be a JSON object (merge patch) with properties and/or geometry',
    },
    'content_crs_unsupported': {
        'fr': 'Content-Crs non pris en charge pour cette collection : {crs}. '
              'CRS possibles : {allowed}',
        'en': 'Content-Crs not supported for this collection: {crs}. Allowed CRS: {allowed}',
    },
    'field_unknown': {
        'fr': 'Propriété inconnue de la collection : {field}',
        'en': 'Property unknown to the collection: {field}',
    },
    'field_required': {
        'fr': '{field} : valeur obligatoire',
        'en': '{field}: a value is required',
    },
    'field_not_text': {
        'fr': '{field} : texte attendu, reçu {value}',
        'en': '{field}: text expected, got {value}',
    },
    'field_not_integer': {
        'fr': '{field} : nombre entier attendu, reçu {value}',
        'en': '{field}: integer expected, got {value}',
    },
    'field_not_number': {
        'fr': '{field} : nombre attendu, reçu {value}',
        'en': '{field}: number expected, got {value}',
    },
    'field_not_boolean': {
        'fr': '{field} : booléen attendu (true/false), reçu {value}',
        'en': '{field}: boolean expected (true/false), got {value}',
    },
    'field_not_date': {
        'fr': '{field} : date attendue (AAAA-MM-JJ), reçu {value}',
        'en': '{field}: date expected (YYYY-MM-DD), got {value}',
    },
    'field_not_datetime': {
        'fr': '{field} : date et heure attendues (RFC 3339), reçu {value}',
        'en': '{field}: date-time expected (RFC 3339), got {value}',
    },
    'field_enum': {
        'fr': '{field} : valeur {value} absente de la liste de codes ({allowed})',
        'en': '{field}: value {value} is not in the code list ({allowed})',
    },
    'id_mismatch': {
        'fr': "{field} = {value} ne correspond pas à l'élément {id} de l'URL",
        'en': '{field} = {value} does not match item {id} of the URL',
    },
    'id_duplicate': {
        'fr': 'Identifiant {id} en double dans le fichier (déjà ligne {first})',
        'en': 'Duplicate identifier {id} in the file (already row {first})',
    },
    'id_exists_append': {
        'fr': "L'identifiant {id} existe déjà (mode append ; --mode upsert pour mettre à jour)",
        'en': 'Identifier {id} already exists (append mode; use --mode upsert to update)',
    },
    'geometry_missing': {
        'fr': 'Géométrie manquante',
        'en': 'Missing geometry',
    },
    'geometry_unreadable': {
        'fr': 'Géométrie illisible : {detail}',
        'en': 'Unreadable geometry: {detail}',
    },
    'geometry_empty': {
        'fr': 'Géométrie vide',
        'en': 'Empty geometry',
    },
    'geometry_type': {
        'fr': 'Type de géométrie {got} refusé : {expected} attendu',
        'en': 'Geometry type {got} refused: {expected} expected',
    },
    'geometry_invalid': {
        'fr': 'Géométrie invalide (OGC Simple Features) : {reason}',
        'en': 'Invalid geometry (OGC Simple Features): {reason}',
    },
    'geometry_outside': {
        'fr': "Géométrie hors du territoire de l'Artois (communes + 1 km)",
        'en': 'Geometry outside the Artois territory (municipalities + 1 km)',
    },
    'import_read_error': {
        'fr': 'Lecture du fichier impossible : {detail}',
        'en': 'Cannot read the file: {detail}',
    },
    'import_format': {
        'fr': 'Format de fichier non pris en charge : {ext} (GeoPackage, Shapefile zippé, '
              'GeoJSON, CSV)',
        'en': 'Unsupported file format: {ext} (GeoPackage, zipped Shapefile, GeoJSON, CSV)',
    },
    'import_layers': {
        'fr': 'Le fichier contient plusieurs couches ({layers}) : choisissez-en une avec --layer',
        'en': 'The file holds several layers ({layers}): choose one with --layer',
    },
    'import_no_crs': {
        'fr': "Le fichier n'a pas de système de coordonnées : précisez-le avec --crs",
        'en': 'The file has no coordinate reference system: give it with --crs',
    },
    'import_bad_crs': {
        'fr': 'Système de coordonnées inconnu : {crs}',
        'en': 'Unknown coordinate reference system: {crs}',
    },
    'import_unknown_columns': {
        'fr': 'Colonnes inconnues de la collection {collection} : {columns}',
        'en': 'Columns unknown to collection {collection}: {columns}',
    },
    'import_csv_geometry': {
        'fr': 'CSV : aucune colonne de géométrie (WKT avec --wkt, ou X/Y avec --x et --y)',
        'en': 'CSV: no geometry column (WKT with --wkt, or X/Y with --x and --y)',
    },
    'import_bad_wkt': {
        'fr': 'WKT illisible : {detail}',
        'en': 'Unreadable WKT: {detail}',
    },
    'import_bad_xy': {
        'fr': 'Coordonnées X/Y invalides : {x}, {y}',
        'en': 'Invalid X/Y coordinates: {x}, {y}',
    },
    'import_empty': {
        'fr': 'Le fichier ne contient aucune ligne',
        'en': 'The file has no rows',
    },
    'audit_entry_not_found': {
        'fr': "Entrée d'historique {audit_id} introuvable pour l'élément {id} de {collection}",
        'en': 'History entry {audit_id} not found for item {id} of {collection}',
    },
    'nothing_to_restore': {
        'fr': "Rien à restaurer : l'élément {id} n'existait pas avant l'entrée {audit_id} "
              "et n'existe pas aujourd'hui",
        'en': 'Nothing to restore: item {id} did not exist before entry {audit_id} '
              'and does not exist today',
    },
    # -- OGC API Processes: jobs (services/jobs.py)
    'job_inputs_not_object': {
        'fr': "« inputs » doit être un objet JSON {{nom de l'entrée : valeur}}",
        'en': "'inputs' must be a JSON object {{input name: value}}",
    },
    'job_body_not_object': {
        'fr': 'Le corps de la requête doit être un objet JSON {{"inputs": {{…}}}}',
        'en': 'The request body must be a JSON object {{"inputs": {{…}}}}',
    },
    'job_input_unknown': {
        'fr': 'Entrée inconnue « {input} » pour le traitement {process}. '
              'Entrées acceptées : {allowed}',
        'en': "Unknown input '{input}' for process {process}. Accepted inputs: {allowed}",
    },
    'job_input_missing': {
        'fr': 'Entrée obligatoire manquante : « {input} » (traitement {process})',
        'en': "Missing required input '{input}' (process {process})",
    },
    'job_input_too_many': {
        'fr': "L'entrée « {input} » accepte au plus {max} valeur(s) : {count} reçue(s)",
        'en': "Input '{input}' takes at most {max} value(s): got {count}",
    },
    'job_input_invalid': {
        'fr': 'Entrée « {input} » invalide : {problem}',
        'en': "Invalid input '{input}': {problem}",
    },
    'schema_type': {
        'fr': "{value} n'est pas du type attendu ({expected})",
        'en': '{value} is not of the expected type ({expected})',
    },
    'schema_enum': {
        'fr': 'valeur {value} non autorisée ; valeurs possibles : {allowed}',
        'en': 'value {value} is not allowed; allowed values: {allowed}',
    },
    'schema_required': {
        'fr': 'propriété obligatoire manquante : {name}',
        'en': 'missing required property: {name}',
    },
    'schema_unknown_property': {
        'fr': 'propriété inconnue : {name}. Propriétés possibles : {allowed}',
        'en': 'unknown property: {name}. Allowed properties: {allowed}',
    },
    'schema_minimum': {
        'fr': '{value} est inférieur au minimum ({limit})',
        'en': '{value} is below the minimum ({limit})',
    },
    'schema_maximum': {
        'fr': '{value} est supérieur au maximum ({limit})',
        'en': '{value} is above the maximum ({limit})',
    },
    'schema_other': {
        'fr': 'valeur {value} refusée par le schéma ({detail})',
        'en': 'value {value} refused by the schema ({detail})',
    },
    'job_outputs_invalid': {
        'fr': 'Sorties demandées inconnues : {outputs}. Sorties possibles : {allowed}',
        'en': 'Unknown requested outputs: {outputs}. Available outputs: {allowed}',
    },
    'job_response_invalid': {
        'fr': '« response » doit valoir raw ou document, reçu {value}',
        'en': "'response' must be raw or document, got {value}",
    },
    'job_callback_refused': {
        'fr': "Adresse de rappel {field} refusée : l'hôte {host} n'est pas autorisé "
              '(hôtes autorisés, ARTOIS_CALLBACK_HOSTS : {allowed})',
        'en': 'Callback URL {field} refused: host {host} is not allowed '
              '(allowed hosts, ARTOIS_CALLBACK_HOSTS: {allowed})',
    },
    'job_callback_invalid': {
        'fr': 'Adresse de rappel {field} invalide : {url} (URL http ou https attendue)',
        'en': 'Invalid callback URL {field}: {url} (an http or https URL is expected)',
    },
    'job_callback_unresolved': {
        'fr': "Adresse de rappel {field} refusée : l'hôte {host} est introuvable",
        'en': 'Callback URL {field} refused: host {host} cannot be resolved',
    },
    'job_callback_address': {
        'fr': "Adresse de rappel {field} refusée : {host} mène à l'adresse {address}, "
              'locale, privée ou réservée (ARTOIS_CALLBACK_PRIVATE_NETWORKS pour l\'autoriser)',
        'en': 'Callback URL {field} refused: {host} leads to {address}, a loopback, private '
              'or reserved address (ARTOIS_CALLBACK_PRIVATE_NETWORKS allows it)',
    },
    'job_subscriber_invalid': {
        'fr': '« subscriber » doit être un objet {{"successUri": URL, "inProgressUri": URL, '
              '"failedUri": URL}} avec au moins successUri, reçu {value}',
        'en': '\'subscriber\' must be an object {{"successUri": URL, "inProgressUri": URL, '
              '"failedUri": URL}} with at least successUri, got {value}',
    },
    'process_not_found': {
        'fr': 'Traitement introuvable : {id}',
        'en': 'Process not found: {id}',
    },
    'job_body_not_json': {
        'fr': "Le corps de la requête n'est pas du JSON valide",
        'en': 'The request body is not valid JSON',
    },
    'job_body_not_utf8': {
        'fr': "Le corps de la requête n'est pas encodé en UTF-8",
        'en': 'The request body is not UTF-8',
    },
    'job_body_too_deep': {
        'fr': 'Le corps de la requête est imbriqué trop profondément (au plus {max} niveaux)',
        'en': 'The request body is nested too deeply (at most {max} levels)',
    },
    'job_body_nul': {
        'fr': 'Le corps de la requête contient un caractère NUL (\\u0000), refusé',
        'en': 'The request body holds a NUL character (\\u0000), which is refused',
    },
    'job_body_unknown': {
        'fr': 'Membres inconnus dans le corps de la requête : {keys} '
              '(possibles : inputs, outputs, response, subscriber)',
        'en': 'Unknown members in the request body: {keys} '
              '(allowed: inputs, outputs, response, subscriber)',
    },
    'job_format_invalid': {
        'fr': 'Format non pris en charge : {value} (json ou html)',
        'en': 'Unsupported format: {value} (json or html)',
    },
    'job_param_invalid': {
        'fr': 'Paramètre {name} invalide : {value} (de {low} à {high})',
        'en': 'Invalid parameter {name}: {value} (from {low} to {high})',
    },
    'job_queue_full': {
        'fr': "La file des tâches est pleine ({max} en attente) : réessayez dans quelques "
              'secondes',
        'en': 'The job queue is full ({max} waiting): try again in a few seconds',
    },
    'job_owner_limit': {
        'fr': 'Vous avez déjà {max} tâches en attente ou en cours : réessayez quand '
              "l'une d'elles sera terminée",
        'en': 'You already have {max} jobs waiting or running: try again when one of them '
              'has finished',
    },
    'job_result_not_ready': {
        'fr': "La tâche {id} n'est pas terminée : son résultat n'est pas encore disponible",
        'en': 'Job {id} has not finished: its result is not available yet',
    },
    'job_result_too_large': {
        'fr': 'Le résultat de la tâche ({size} octets) dépasse la taille maximale de '
              '{limit} octets : réduisez la demande',
        'en': 'The job result ({size} bytes) exceeds the maximum size of {limit} bytes: '
              'ask for less',
    },
    'job_accepted': {
        'fr': 'Tâche acceptée, en attente de démarrage',
        'en': 'Job accepted and ready for execution',
    },
    'job_running': {
        'fr': 'Tâche en cours',
        'en': 'Job running',
    },
    'job_complete': {
        'fr': 'Tâche terminée',
        'en': 'Job complete',
    },
    'job_restarted': {
        'fr': 'Tâche relancée après un arrêt du serveur (tentative {attempt} sur {max})',
        'en': 'Job restarted after a server stop (attempt {attempt} of {max})',
    },
    'job_dismissed': {
        'fr': 'Tâche annulée à la demande (DELETE) ; son processus de calcul est arrêté',
        'en': 'Job dismissed on request (DELETE); its worker process was stopped',
    },
    'job_timeout': {
        'fr': 'La tâche a dépassé la durée maximale de {seconds} s : son processus de calcul '
              'a été arrêté',
        'en': 'The job exceeded the time limit of {seconds} s: its worker process was stopped',
    },
    'job_crashed': {
        'fr': "Le processus de calcul s'est arrêté de façon inattendue (code de sortie {code})",
        'en': 'The worker process ended unexpectedly (exit code {code})',
    },
    'job_gave_up': {
        'fr': 'Tâche abandonnée : interrompue par un arrêt du serveur à chacune de ses '
              '{attempts} tentatives. Relancez-la si besoin.',
        'en': 'Job given up: a server stop interrupted each of its {attempts} attempts. '
              'Submit it again if needed.',
    },
    'job_unknown_process': {
        'fr': "Tâche abandonnée : le traitement {process} n'est plus publié",
        'en': 'Job given up: process {process} is no longer published',
    },
    'job_error': {
        'fr': "Erreur lors de l'exécution du traitement : {detail}",
        'en': 'Error executing process: {detail}',
    },
    'job_not_found': {
        'fr': 'Tâche introuvable : {id}',
        'en': 'Job not found: {id}',
    },
    'job_result_dismissed': {
        'fr': "La tâche {id} a été annulée : elle n'a pas de résultat",
        'en': 'Job {id} was dismissed: it has no result',
    },
    # -- the mutability process (processes/mutability/processor.py)
    'mutability_no_input': {
        'fr': 'Donnez « friche » (un site_id de la collection friches), « criteria » '
              '(les critères) ou « batch » : true',
        'en': "Give 'friche' (a site_id of the friches collection), 'criteria' "
              "or 'batch': true",
    },
    'mutability_batch_alone': {
        'fr': '« batch » : true note toutes les friches ; il ne se combine ni avec '
              '« friche » ni avec « criteria »',
        'en': "'batch': true scores every brownfield; it cannot be combined with "
              "'friche' or 'criteria'",
    },
    'mutability_unknown_friche': {
        'fr': 'Entrée « friche » : aucune friche {id} dans la collection friches',
        'en': "Input 'friche': no brownfield site {id} in the friches collection",
    },
    'mutability_criteria': {
        'fr': 'Entrée « criteria » invalide : {detail}',
        'en': "Invalid input 'criteria': {detail}",
    },
    'mutability_version': {
        'fr': 'Entrée « algorithm_version » invalide : {detail}',
        'en': "Invalid input 'algorithm_version': {detail}",
    },
}


class _KeepMissing(dict):
    """format_map helper: leave unknown placeholders as ``{name}`` instead of
    raising while an error response is being built."""

    def __missing__(self, key: str) -> str:
        return '{' + key + '}'


def _fmt_value(value) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return ', '.join(str(v) for v in items)
    return str(value)


def message(key: str, **kw) -> dict[str, str]:
    """Return the project message ``key`` in French and English, with
    ``str.format`` placeholders filled from ``kw`` (lists are joined with
    ", "; a value ``{"fr": ..., "en": ...}`` gives each language its own text).

    :raises KeyError: unknown ``key``.
    """
    texts = MESSAGES[key]
    out = {}
    for lang in SUPPORTED_LANGUAGES:
        values = _KeepMissing({
            k: _fmt_value(v[lang] if isinstance(v, dict) and lang in v else v)
            for k, v in kw.items()})
        out[lang] = texts[lang].format_map(values)
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
