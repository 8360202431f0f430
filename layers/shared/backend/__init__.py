"""The shared layer: domain code used by every function.

Layers, each calling only the one below: ``http`` (FastAPI app factory, middleware, error mapping)
→ ``services`` (domain rules, transactions, enqueueing) → ``repositories`` (data access) → ``models``
(PynamoDB items). ``schemas`` (pydantic request/response models) and ``errors`` are shared vocabulary.
"""

__version__ = "0.1.0"
