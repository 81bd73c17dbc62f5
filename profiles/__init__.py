"""Customer data in SQL: tables, engine, importers and context queries."""
