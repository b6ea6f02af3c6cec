"""OpenID Connect on top of OAuth: identity scopes, ID tokens, standard claims, ``/userinfo``."""
