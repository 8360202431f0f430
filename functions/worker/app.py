"""Worker: runs email and order jobs from SQS (partial batch failures reported)."""

from backend.jobs.worker import create_worker_handler

handler = create_worker_handler()
