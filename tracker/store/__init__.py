"""Storage: the database, every table, the blob store and the migrations.

Modules
    db          engine, sessions, migrations (SQLite with WAL, or PostgreSQL)
    tables      every tracker table, in one module
    blobs       the content-addressed store for raw messages and attachments
    locks       migration lock and one poller per mailbox (advisory locks / lock files)
    migrations  Alembic scripts (env.py imports ``tables`` and ``notifier.models``)

Durable writes (temp → fsync → rename → fsync the folder) come from the top-level
``durable`` module, shared with intake's receiver and notifier's file outbox.
"""
