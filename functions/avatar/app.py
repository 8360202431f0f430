"""Avatars: resizes each upload the upload bucket reports (S3 events) into the served images."""

import backend.coldstart  # noqa: F401 - first: no garbage collection while the function initializes
from backend.jobs.avatars import create_avatar_handler

handler = create_avatar_handler()
