"""Dropwire: a self-hostable hub for dropship and multi-vendor marketplace operations."""

__version__ = "0.1.0"
