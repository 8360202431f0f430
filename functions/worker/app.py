"""Worker: runs email and order jobs from SQS (partial batch failures reported)."""

import backend.coldstart  # noqa: F401 - first: no garbage collection while the function initializes
from backend.jobs.worker import create_worker_handler

handler = create_worker_handler()
