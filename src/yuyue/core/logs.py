"""Logging helpers."""

from __future__ import annotations

import logging
import os
import time


class UtcFormatter(logging.Formatter):
    """Log times in UTC, marked as such (2026-12-04T18:36:58.150Z), like every time the API
    answers with: the process runs in TIME_ZONE (Asia/Shanghai), and a bare local stamp beside
    the API's UTC times sends whoever matches a log line to a request eight hours astray."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


class QuietJobs(logging.Filter):
    """Drop the job worker's per-job INFO lines (periodic jobs run every few seconds and would
    flood the console); its warnings and errors still show. YUYUE_JOB_LOGS=1 shows them all.
    A handler filter, because the worker sets its logger's level from --verbosity itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if os.environ.get("YUYUE_JOB_LOGS") == "1":
            return True
        return not (record.name.startswith("django_tasks") and record.levelno < logging.WARNING)
