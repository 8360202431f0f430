"""Entry adapters for non-HTTP events (SQS batches, schedules), the counterpart of ``backend.http``."""
