"""inventory-api: a sample FastAPI stock service for the Fx platform (orders-api's dependency)."""

__version__ = "1.0.0"
