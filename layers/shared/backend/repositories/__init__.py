"""Data access: one repository per aggregate, returning PynamoDB-free records (``records``).

Services call these; they never import ``backend.models``. Repositories raise the typed errors of
``backend.errors`` (NotFoundError, ConflictError naming the field, ConcurrentModificationError,
BadRequestError for a forged cursor, UnavailableError when DynamoDB throttles or cannot be reached)
and know nothing about HTTP. Import the module you need (``backend.repositories.users``...): this
package imports nothing, to keep cold starts short.
"""
