"""How a login was made: ``amr`` values (RFC 8176) and ``acr`` levels, in ID and access tokens.

``acr`` is a level, as Keycloak's defaults have it: ``1`` is one factor (a password). The MFA
issue adds ``2``; ``acr_values_supported`` in discovery lists exactly the levels we can reach.
"""

from __future__ import annotations

__all__ = ["ACR_ONE_FACTOR", "ACR_VALUES_SUPPORTED", "AMR_PASSWORD"]

AMR_PASSWORD = "pwd"  # noqa: S105 - an RFC 8176 method name, not a secret
ACR_ONE_FACTOR = "1"
ACR_VALUES_SUPPORTED = (ACR_ONE_FACTOR,)
