"""The development stack: ``make run`` and the embedded PostgreSQL and Redis servers tests use.

It lives beside the services, not in ``shared/``: it knows both services (their modules, variables
and commands), and ``shared/`` is the library any resource server may reuse, so it knows neither.
Nothing here is used in production, and the images do not ship it (``deploy/Dockerfile``); it
exists so that a newcomer with only Python can run the whole system and its test suite.
"""
