"""PynamoDB items of the single application table (see docs/data-model.md).

Only repositories import from here; services and HTTP code never touch PynamoDB. The modules are
small and imported on demand: ``ids``, ``clock``, ``keys`` and ``enums`` are pure stdlib, so code
that needs an id or a key string does not pay for importing PynamoDB.
"""
