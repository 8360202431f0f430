"""Routers: one module per endpoint group. Each calls services, never repositories or models."""
