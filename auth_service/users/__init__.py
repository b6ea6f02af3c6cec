"""People who log in: accounts, their roles, self-service and the admin API."""
