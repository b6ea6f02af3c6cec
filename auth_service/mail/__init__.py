"""Outgoing mail: templates in every language, the transactional outbox and its SMTP sender."""
