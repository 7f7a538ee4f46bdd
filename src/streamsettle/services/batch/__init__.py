"""The daily batch (rule 3.7): statistics and settlement of a business date.

Set-based steps in the database (``steps``, SQL in ``sql/``), split into video id range
partitions that run in parallel (``partitions``), recorded in the job repository
(``repository``), scheduled once per day in a cluster (``scheduler``). See docs/batch.md.
"""

from streamsettle.services.batch.events import BatchEvent
from streamsettle.services.batch.runner import execute_run, prepare_run, run_date, run_range

__all__ = ["BatchEvent", "execute_run", "prepare_run", "run_date", "run_range"]
