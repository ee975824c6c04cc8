"""The pygeoapi process manager (`server.manager.name: services.jobs.JobManager`).

pygeoapi keeps the process list and descriptions (`/processes`, `/processes/{id}`), for
which it needs a manager; execution and jobs are served by services/jobs/api.py in front of
pygeoapi, so that every job has an owner, goes through the queue and never holds one of
pygeoapi's threads. The job verbs below are therefore never reached through HTTP; they
refuse rather than show jobs without their owners' checks.
"""
from __future__ import annotations

from pygeoapi.process.base import JobNotFoundError
from pygeoapi.process.manager.base import BaseManager

from services.jobs.errors import ProcessError


class JobManager(BaseManager):
    def __init__(self, manager_def: dict):
        super().__init__(manager_def)
        self.is_async = True
        self.supports_subscribing = True

    def get_jobs(self, status=None, limit=None, offset=None) -> dict:
        return {"jobs": [], "numberMatched": 0}

    def get_job(self, job_id: str) -> dict:
        raise JobNotFoundError(job_id)

    def get_job_result(self, job_id: str):
        raise JobNotFoundError(job_id)

    def delete_job(self, job_id: str) -> bool:
        raise JobNotFoundError(job_id)

    def add_job(self, job_metadata: dict) -> str:
        raise ProcessError.of("job_error", 500, "NoApplicableCode",
                              detail="jobs are created by services.jobs.api")

    def update_job(self, job_id: str, update_dict: dict) -> bool:
        return False

    def execute_process(self, *args, **kwargs):
        raise ProcessError.of("job_error", 500, "NoApplicableCode",
                              detail="processes are executed by services.jobs.api")

    def __repr__(self):
        return "<JobManager services.jobs>"
