"""HTTP routes, one module per resource; they call services and never hold domain logic."""
