"""The local cloud: runs the whole system from template.yaml on loopback, without Docker or AWS.

Never deployed. See docs/local-cloud.md.
"""
