"""orders-api: a sample FastAPI service for the Fx platform."""

__version__ = "1.0.0"
