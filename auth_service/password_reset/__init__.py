"""Forgot password: a single-use, expiring link by mail lets a person choose a new password."""
