"""Version of the combopt distribution (single source of truth)."""

__version__ = "0.1.0"
