"""The account page: a person manages their password, second factors, sessions and consents."""
