"""SQLite storage: the connection factory, migrations and one module per aggregate.

This package is the only place that knows the SQLite driver (apsw)."""
