"""Errors of processes and jobs, in French and English, with their HTTP status and OGC code.

Processors raise `ProcessError` (from `validate_inputs` or `execute`); the job API renders it
as an OGC exception in both languages, and a job that fails keeps it as its error.
"""
from __future__ import annotations

import json
from typing import Any

from pygeoapi.process.base import ProcessorExecuteError

from services.i18n import message, remember


def texts(key: str, **kw: Any) -> dict[str, str]:
    """services.i18n.message (a value may itself be {"fr": ..., "en": ...})."""
    return message(key, **kw)


def status_message(key: str, **kw: Any) -> dict[str, str]:
    t = texts(key, **kw)
    return {"message": t["en"], "message_fr": t["fr"]}


class ProcessError(ProcessorExecuteError):
    """A process or job error in French and English, with its HTTP status and OGC code.

    Processors may raise it (from `validate_inputs` or `execute`); pygeoapi turns it into an
    OGC exception and services.app rewrites that in both languages."""

    def __init__(self, texts_: dict[str, str], status: int = 400,
                 code: str = "InvalidParameterValue"):
        super().__init__(user_msg=texts_["en"])
        self.texts = {"fr": texts_["fr"], "en": texts_["en"]}
        self.http_status_code = status
        self.ogc_exception_code = code
        remember(self.texts)

    @classmethod
    def of(cls, key: str, status: int = 400, code: str = "InvalidParameterValue",
           **kw: Any) -> "ProcessError":
        return cls(texts(key, **kw), status, code)

    def to_dict(self) -> dict[str, Any]:
        return {"status": int(self.http_status_code), "code": self.ogc_exception_code,
                **self.texts}


def error_of(err: BaseException) -> dict[str, Any]:
    """{status, code, fr, en} describing why a job failed.

    Errors carrying ``fr``/``en`` texts keep them; a ProcessorExecuteError keeps its HTTP
    status and OGC code, except pygeoapi's default (500, NoApplicableCode), which pygeoapi's
    own managers answer as 400 InvalidParameterValue (processors raise it for bad inputs);
    a ValueError is a bad input (400); anything else is a 500."""
    if isinstance(err, ProcessError):
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
