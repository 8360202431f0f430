"""Data access. Repositories return domain records and raise domain errors; no HTTP here."""
