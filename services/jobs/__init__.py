"""OGC API Processes jobs: a persistent queue, owners, and a pool of workers.

- store.py     the job table (SQLite or PostgreSQL): queue, states, results, live workers
- access.py    who may run a process (roles per process and input), whose a job is
- inputs.py    inputs checked against the process description
- api.py       the HTTP routes: execution, /jobs, status, results, dismissal
- worker.py    the worker pool (`artois-geo worker`, or beside `artois-geo serve`)
- callbacks.py subscriber URLs: one parser decides and connects
- errors.py    ProcessError, the bilingual error of processes and jobs
- manager.py   the (thin) pygeoapi process manager, for the process descriptions
"""
from services.jobs.errors import ProcessError, error_of, texts  # noqa: F401
from services.jobs.manager import JobManager  # noqa: F401
