"""Logging helpers."""

from __future__ import annotations

import logging
import os


class QuietJobs(logging.Filter):
    """Drop the job worker's per-job INFO lines (periodic jobs run every few seconds and would
    flood the console); its warnings and errors still show. YUYUE_JOB_LOGS=1 shows them all.
    A handler filter, because the worker sets its logger's level from --verbosity itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if os.environ.get("YUYUE_JOB_LOGS") == "1":
            return True
        return not (record.name.startswith("django_tasks") and record.levelno < logging.WARNING)
