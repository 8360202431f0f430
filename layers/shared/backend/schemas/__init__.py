"""Pydantic request/response models: the vocabulary shared by http and services."""
