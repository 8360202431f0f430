"""Scheduled housekeeping (EventBridge): runs the task named in the schedule's Input."""

import backend.coldstart  # noqa: F401 - first: no garbage collection while the function initializes
from backend.jobs.scheduled import create_scheduled_handler

handler = create_scheduled_handler()
