"""Database helpers: engines, the unit of work, messaging tables, migrations, embedded server."""
