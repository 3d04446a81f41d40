"""Storage errors. Driver exceptions are translated here, once, and chained.

StorageError
├── DatabaseUrlError      DATABASE_URL cannot be understood
├── MigrationError        the schema could not be brought up to date
└── ConnectionLost        the database went away mid-operation (safe to retry)
"""

from __future__ import annotations


class StorageError(Exception):
    """Root of storage errors."""


class DatabaseUrlError(StorageError, ValueError):
    pass


class MigrationError(StorageError):
    pass


class ConnectionLost(StorageError):
    pass
