"""Portico's device agent: enrols a device with a Portico server and keeps its control connection open."""

__version__ = "0.1.0"
