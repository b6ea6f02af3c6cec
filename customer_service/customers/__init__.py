"""Customers: the resource this service serves, from HTTP handlers down to SQL."""
