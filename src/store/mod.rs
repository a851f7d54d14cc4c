//! Storage: one interface, SQLite by default and PostgreSQL for several nodes.
