"""Storage: typed models, engine and sessions, migrations, and writes split by aggregate."""
