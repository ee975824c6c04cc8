"""French for pygeoapi's own English exception messages -- and only those.

pygeoapi builds its OGC exceptions with an English ``description`` (api/*.py, provider/*.py,
process/*.py, crs.py, formatter/*.py). :func:`bilingual` gives them back in French and
English: exact strings (:data:`_EXACT`) and f-string patterns (:data:`_PATTERNS`) of pygeoapi
0.24; an unknown message gets a generic French prefix. ``services.error_handler`` uses it when
it rewrites an error that pygeoapi answered.

The project's own messages are not here: they are ``services.errors.OGCError`` keys in
``services/locale/*/LC_MESSAGES/errors.po``. An ``OGCError`` that must travel through pygeoapi
(a provider or processor error subclassing a pygeoapi exception) is recorded with
:func:`remember` when it is raised, so that its French comes back by its English text.

When pygeoapi is upgraded: ``tests/test_i18n.py::test_all_pygeoapi_messages_translated``
lists the messages of the new release that have no French here.
"""
from __future__ import annotations

import re
import threading
from typing import Callable

__all__ = ['bilingual', 'remember']


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

# Transitional: English messages of this project's providers (services/providers/), which
# pygeoapi carries as text; they go when the providers raise services.errors.OGCError.
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


