"""Errors of processes and jobs: services.errors.OGCError, also pygeoapi's ProcessorExecuteError.

Processors raise `ProcessError` (from `validate_inputs` or `execute`); the job API renders it
as an OGC exception in both languages, and a job that fails keeps it (`to_dict`) as its error.
"""
from __future__ import annotations

import json
from typing import Any

from pygeoapi.process.base import ProcessorExecuteError

from services.errors import OGCError
from services.i18n import message


def texts(key: str, **kw: Any) -> dict[str, str]:
    """services.i18n.message (a value may itself be {"fr": ..., "en": ...})."""
    return message(key, **kw)


def status_message(key: str, **kw: Any) -> dict[str, str]:
    t = texts(key, **kw)
    return {"message": t["en"], "message_fr": t["fr"]}


class ProcessError(OGCError, ProcessorExecuteError):
    """A process or job error (services.errors.OGCError: key, parameters, status, OGC code);
    a pygeoapi ProcessorExecuteError too, for pygeoapi's own process managers."""

    @classmethod
    def of(cls, key: str, status: int = 400, code: str = "InvalidParameterValue",
           **kw: Any) -> "ProcessError":
        return cls(key, status=status, code=code, params=kw)


def error_of(err: BaseException) -> dict[str, Any]:
    """{status, code, fr, en} describing why a job failed.

    Errors carrying ``fr``/``en`` texts keep them; a ProcessorExecuteError keeps its HTTP
    status and OGC code, except pygeoapi's default (500, NoApplicableCode), which pygeoapi's
    own managers answer as 400 InvalidParameterValue (processors raise it for bad inputs);
    a ValueError is a bad input (400); anything else is a 500."""
    if isinstance(err, OGCError):
        return err.to_dict()
    status, code = 500, "NoApplicableCode"
    if isinstance(err, ProcessorExecuteError):
        status, code = int(err.http_status_code), err.ogc_exception_code
        if status == 500 and code == "NoApplicableCode":
            status, code = 400, "InvalidParameterValue"
    elif isinstance(err, ValueError):
        status, code = 400, "InvalidParameterValue"
    fr, en = getattr(err, "fr", None), getattr(err, "en", None)
    if isinstance(fr, str) and isinstance(en, str) and fr and en:  # bilingual errors
        return {"status": status, "code": code, "fr": fr, "en": en}
    detail = err.message if isinstance(err, ProcessorExecuteError) else \
        (str(err) if status < 500 else f"{type(err).__name__}: {err}")
    return {"status": status, "code": code, **texts("job_error", detail=detail)}



def show(value: Any, width: int = 80) -> str:
    """A short JSON rendering of a caller's value, for messages."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"
