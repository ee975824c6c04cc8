"""The one error type of the server: :class:`OGCError`, rendered as a bilingual OGC exception.

Raise it anywhere a request must fail (edges, auth, Part 4, jobs, tiles, styles, providers,
processes)::

    from services.errors import OGCError

    raise OGCError("feature_not_found", status=404, code="NotFound",
                   id=fid, collection=name)
    raise OGCError("job_queue_full", status=429, code="TooManyRequests",
                   headers={"Retry-After": "10"}, max=200)

* ``key`` is a message id of the ``errors`` catalogues,
  ``services/locale/{fr,en}/LC_MESSAGES/errors.po`` (``msgid`` = the key, ``msgstr`` = the
  text, with ``str.format`` placeholders such as ``{id}`` or ``{x0:g}``). Every key must exist
  in both catalogues: ``tests/test_errors.py`` fails otherwise. Add a message by adding one
  entry to each ``errors.po``.
* The other keyword arguments are the placeholders' values. A value may be a list (joined
  with ", "), or ``{"fr": ..., "en": ...}`` (each language gets its own text, e.g. a nested
  message from :func:`services.i18n.message`). A placeholder named like a keyword of the
  constructor (``status``, ``code``, ``headers``) goes in ``params={...}``.
* ``status`` (HTTP status) and ``code`` (OGC exception code) default to the class
  attributes: 400 ``InvalidParameterValue``; subclasses set their own (a library that needs
  its own base class -- e.g. pygeoapi's ``ProcessorExecuteError`` -- combines both:
  ``class ProcessError(OGCError, ProcessorExecuteError)``).
* ``headers``: extra response headers (``Retry-After``, ``WWW-Authenticate``, ``Allow``...).
* ``extra``: more members of the JSON body (e.g. ``{"errors": [...]}``, a feature's problems).
* An ``OGCError`` that is also a pygeoapi exception (provider or processor errors) sets
  pygeoapi's ``http_status_code``, ``ogc_exception_code`` and English ``message`` itself, and
  records its French so that the handler rewrites pygeoapi's English answer in both languages.

Rendering (one handler): :func:`body` gives the OGC exception JSON in the reader's language
(``description_fr`` and ``description_en`` always both present); :meth:`OGCError.response` a
Starlette response for route handlers; ``services.error_handler.OGCExceptionMiddleware``
catches any ``OGCError`` that escapes a route and renders it the same way, in the language
negotiated by :func:`services.i18n.pick_language` (``lang=`` then ``Accept-Language``).
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from services.i18n import message
from services.pygeoapi_messages import remember

__all__ = ["OGCError", "DEFAULT_CODES", "body", "exception_body", "texts"]

#: OGC exception code used when none is given, by HTTP status.
DEFAULT_CODES = {400: "InvalidParameterValue", 401: "Unauthorized", 403: "Forbidden",
                 404: "NotFound", 405: "MethodNotAllowed", 406: "NotAcceptable",
                 409: "Conflict", 412: "PreconditionFailed", 413: "PayloadTooLarge",
                 415: "UnsupportedMediaType", 428: "PreconditionRequired",
                 429: "TooManyRequests", 500: "ServerError", 503: "ServiceUnavailable"}


def texts(key: str, **params: Any) -> dict[str, str]:
    """``{"fr": ..., "en": ...}`` of catalogue message ``key`` (KeyError if unknown)."""
    return message(key, **params)


class OGCError(Exception):
    """A request error: HTTP status, OGC exception code, message key + parameters, headers."""

    status: int = 400
    code: str | None = None   # None: DEFAULT_CODES[status]
    _fixed: dict[str, str] | None = None   # from_texts (transitional)

    def __init__(self, key: str, /, *, status: int | None = None, code: str | None = None,
                 headers: Mapping[str, str] | Iterable[tuple[Any, Any]] | None = None,
                 params: Mapping[str, Any] | None = None,
                 extra: Mapping[str, Any] | None = None, **kw: Any):
        self.key = key
        self.extra: dict[str, Any] = dict(extra or {})
        self.params: dict[str, Any] = {**(params or {}), **kw}
        if status is not None:
            self.status = int(status)
        self.code = code or self.code or DEFAULT_CODES.get(self.status, "InvalidParameterValue")
        self.headers: dict[str, str] = {}
        for name, value in (headers.items() if isinstance(headers, Mapping)
                            else headers or ()):
            name = name.decode("latin-1") if isinstance(name, bytes) else str(name)
            value = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            self.headers[name] = value
        super().__init__(key)
        if hasattr(self, "ogc_exception_code"):  # also a pygeoapi GenericError: see below
            self._through_pygeoapi()

    def _through_pygeoapi(self) -> None:
        """pygeoapi renders its own exceptions from ``http_status_code``,
        ``ogc_exception_code`` and the English ``message``; the French text is recorded
        (``services.pygeoapi_messages.remember``) so that the handler gives it back."""
        self.http_status_code = self.status
        self.ogc_exception_code = self.code
        found = self.texts
        self.user_msg = found["en"]
        remember(found)

    @classmethod
    def wrap(cls, err: BaseException, **kw: Any) -> "OGCError":
        """This class's error for another error carrying texts (an OGCError, or any error
        with ``texts`` = ``{"fr", "en"}``), its status and code unless ``kw`` says."""
        if isinstance(err, OGCError) and err._fixed is None:
            kw.setdefault("status", err.status)
            kw.setdefault("code", err.code)
            kw.setdefault("headers", err.headers)
            kw.setdefault("extra", err.extra)
            return cls(err.key, params=err.params, **kw)
        found = getattr(err, "texts", None) or {"fr": str(err), "en": str(err)}
        for name in ("status", "code"):
            if getattr(err, name, None) is not None:
                kw.setdefault(name, getattr(err, name))
        return cls.from_texts(found["fr"], found["en"], **kw)

    @classmethod
    def from_texts(cls, fr: str, en: str, **kw: Any) -> "OGCError":
        """Transitional: an error whose French and English texts are not (yet) catalogue
        messages (older code built them inline). Prefer a key: new code must not use this.
        ``kw``: ``status``, ``code``, ``headers``."""
        err = cls.__new__(cls)
        err._fixed = {"fr": str(fr), "en": str(en)}
        OGCError.__init__(err, "", **kw)
        return err

    def __reduce__(self):  # picklable across the job worker processes, whatever __init__
        return (_rebuild, (type(self), dict(self.__dict__)))

    # -- texts
    @property
    def texts(self) -> dict[str, str]:
        """The message in both languages (``{"fr": ..., "en": ...}``)."""
        if self._fixed is not None:
            return dict(self._fixed)
        return texts(self.key, **self.params)

    @property
    def fr(self) -> str:
        return self.texts["fr"]

    @property
    def en(self) -> str:
        return self.texts["en"]

    def __str__(self) -> str:  # logs, pygeoapi descriptions: the English text
        try:
            return self.texts["en"]
        except KeyError:
            return self.key

    def to_dict(self) -> dict[str, Any]:
        """``{status, code, fr, en}`` (a failed job keeps this as its error)."""
        return {"status": self.status, "code": self.code, **self.texts}

    # -- rendering
    def body(self, lang: str = "fr") -> bytes:
        return exception_body(self.status, self.code, self.texts, lang, self.extra)

    def header_list(self) -> list[tuple[bytes, bytes]]:
        return [(k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in self.headers.items()]

    def response(self, lang: str | None = None):
        """A Starlette response; without ``lang`` both texts travel and
        ``OGCExceptionMiddleware`` picks the reader's language on the way out."""
        from starlette.responses import Response
        return Response(self.body(lang or "fr"), status_code=self.status,
                        headers=self.headers, media_type="application/json")


def _rebuild(cls: type, state: dict[str, Any]) -> OGCError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    Exception.__init__(err, state.get("key", ""))
    return err


def exception_body(status: int, code: str | None, texts_: Mapping[str, str],
                   lang: str, extra: Mapping[str, Any] | None = None) -> bytes:
    """An OGC API exception (RFC 7807 shaped) with the text in both languages (``extra``:
    more members, e.g. the list of a rejected feature's problems)."""
    code = code or DEFAULT_CODES.get(status, "InvalidParameterValue")
    lang = lang if lang in texts_ else "fr"
    doc = {"type": code, "code": code, "status": status,
           "title": texts_[lang], "description": texts_[lang],
           "description_fr": texts_["fr"], "description_en": texts_["en"], **(extra or {})}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def body(err: OGCError, lang: str) -> bytes:
    """The OGC exception JSON of ``err`` in ``lang`` (``fr`` or ``en``)."""
    return err.body(lang)
