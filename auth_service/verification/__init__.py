"""E-mail verification: a single-use, expiring link proves that an address reaches its account."""
