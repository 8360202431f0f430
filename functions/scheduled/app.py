"""Scheduled housekeeping (EventBridge): runs the task named in the schedule's Input."""

from backend.jobs.scheduled import create_scheduled_handler

handler = create_scheduled_handler()
