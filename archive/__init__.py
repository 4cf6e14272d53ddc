"""The records archive application: settings, database, services, routes and CLI."""
