"""The root item of the single table: keys, the item-type discriminator, the four GSIs.

Every entity model subclasses :class:`TableItem` with a ``discriminator`` (stored in ``type``), so
one Query over a mixed item collection (an order and its lines, a user and its sessions) comes back
as the right classes. Each subclass derives its own keys from its data in :meth:`TableItem.sync_keys`,
which runs before every Put, so an item's keys can never disagree with its attributes.

Nothing here does I/O at import. The table name and region come from ``backend.settings`` the first
time a request is made, and every model shares one connection (one botocore client), which keeps the
Lambda cold start to a single client creation.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import DiscriminatorAttribute, UnicodeAttribute
from pynamodb.connection.table import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from backend.errors import ConfigurationError
from backend.models import keys
from backend.settings import get_settings


class _TableMeta(type):
    """Metaclass of ``TableItem.Meta``: table name and region are read from settings on each use.

    PynamoDB reads ``Meta.table_name`` when it opens the connection, so tests (or the local cloud)
    that change ``TABLE_NAME`` and clear the settings cache get a connection to the new table.
    """

    @property
    def table_name(cls) -> str:
        return get_settings().table_name

    @property
    def region(cls) -> str | None:
        try:
            return get_settings().region
        except ConfigurationError:
            # Settings are incomplete (PynamoDB peeks at Meta.region while defining the class, which
            # may happen in tooling without TABLE_NAME): let botocore's default chain decide.
            return None


class Gsi1(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = keys.GSI1
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class Gsi2(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = keys.GSI2
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(range_key=True, attr_name="GSI2SK")


class Gsi3(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = keys.GSI3
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True, attr_name="GSI3PK")
    gsi3sk = UnicodeAttribute(range_key=True, attr_name="GSI3SK")


#: Non-key attributes projected into GSI4 (kept small: the users text search reads the whole index).
GSI4_PROJECTED = ("searchText", "role", "emailVerified")


class Gsi4(GlobalSecondaryIndex["TableItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = keys.GSI4
        projection = IncludeProjection(list(GSI4_PROJECTED))

    gsi4pk = UnicodeAttribute(hash_key=True, attr_name="GSI4PK")
    gsi4sk = UnicodeAttribute(range_key=True, attr_name="GSI4SK")


class TableItem(Model):
    """Root of every item type. Not stored itself: only subclasses with a discriminator are."""

    class Meta(metaclass=_TableMeta):
        # table_name and region: properties of _TableMeta (read from settings on first use).
        # host stays unset so botocore honours AWS_ENDPOINT_URL (the local cloud sets it).
        connect_timeout_seconds = 2
        read_timeout_seconds = 5
        max_retry_attempts = 3

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    item_type = DiscriminatorAttribute(attr_name="type")

    gsi1pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    gsi2pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
    gsi2sk = UnicodeAttribute(null=True, attr_name="GSI2SK")
    gsi3pk = UnicodeAttribute(null=True, attr_name="GSI3PK")
    gsi3sk = UnicodeAttribute(null=True, attr_name="GSI3SK")
    gsi4pk = UnicodeAttribute(null=True, attr_name="GSI4PK")
    gsi4sk = UnicodeAttribute(null=True, attr_name="GSI4SK")

    gsi1 = Gsi1()
    gsi2 = Gsi2()
    gsi3 = Gsi3()
    gsi4 = Gsi4()

    #: Attribute names (as stored) of each index's keys, table included under ``None``.
    INDEX_KEYS: ClassVar[dict[str | None, tuple[str, str]]] = {
        None: ("PK", "SK"),
        keys.GSI1: ("GSI1PK", "GSI1SK"),
        keys.GSI2: ("GSI2PK", "GSI2SK"),
        keys.GSI3: ("GSI3PK", "GSI3SK"),
        keys.GSI4: ("GSI4PK", "GSI4SK"),
    }

    def sync_keys(self) -> None:
        """Set PK/SK and the GSI keys from the item's attributes. Subclasses override."""

    def clear_index_keys(self) -> None:
        """Remove the item from every GSI (a subclass then sets the ones it belongs to)."""
        self.gsi1pk = self.gsi1sk = self.gsi2pk = self.gsi2sk = None
        self.gsi3pk = self.gsi3sk = self.gsi4pk = self.gsi4sk = None

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        self.sync_keys()
        result: dict[str, dict[str, Any]] = super().serialize(null_check=null_check)
        return result

    @classmethod
    def _get_connection(cls) -> TableConnection:
        # One connection (one botocore client) for every item type, instead of one per subclass.
        if cls is not TableItem:
            return TableItem._get_connection()
        if cls._connection is None:
            connection: TableConnection = super()._get_connection()
            # The botocore session of the thread that opens it: the one backend.aws builds every other
            # client from, so a request that reads the table and a secret loads botocore's data once.
            # (PynamoDB keeps a session per thread; other threads still get their own.)
            from backend import aws

            connection.connection._local.session = aws.botocore_session()
            return connection
        return super()._get_connection()


def reset_connection() -> None:
    """Forget the shared table connection (``backend.wiring.reset``): the next request opens a new
    one, with the clients and credentials of that moment."""
    TableItem._connection = None
