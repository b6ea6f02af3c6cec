"""The hosted pages' foundation: language, messages, templates, security headers, CSRF, static files."""
