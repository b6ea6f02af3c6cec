"""The WebAuthn relying party: ceremony options out, verified answers in, no database, no HTTP.

A thin layer over Duo Labs' ``webauthn`` so that the choices live in one place:

- **Registration** asks for a discoverable credential (``residentKey: required``) with user
  verification **required**: every passkey registered here can log in on its own (no email typed,
  the authenticator finds it) and proves two factors (the device and its PIN or biometric), so one
  kind of credential serves both the passwordless login and the second factor. Attestation is
  ``none``: we identify the person, not the authenticator's maker (AAGUID is kept for the list).
- **Passwordless login** sends an empty ``allowCredentials`` (the authenticator offers what it
  holds for this RP id) and requires user verification; a **second factor** lists the person's
  credentials and only prefers it (the password was the knowledge factor).
- Every answer must come from one of the configured origins, for this RP id, with this challenge.

The signature counter is not compared here: ``verify_assertion`` checks everything else and hands
back the new count, and the repository compares it with the stored one in the same statement that
writes it (``passkeys/repository.py``), so two concurrent assertions cannot both pass a count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal
from urllib.parse import urlsplit
from uuid import UUID

import msgspec
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from auth_service.account_settings import PasskeySettings
from auth_service.passkeys.errors import PasskeyRefused

__all__ = [
    "ALGORITHMS",
    "Assertion",
    "KnownCredential",
    "NewCredential",
    "RelyingParty",
    "answered_challenge",
    "parse_assertion",
]

ALGORITHMS: Final = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
"""ES256 first (every platform authenticator), Ed25519, RS256 (Windows Hello's older keys)."""
MAX_CREDENTIAL_JSON = 64 * 1024
_MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, OverflowError)
"""What the library (and cbor2, base64, the COSE decoder under it) raises on hostile input."""


class KnownCredential(msgspec.Struct, frozen=True):
    """A registered credential as the options name it (``excludeCredentials``, ``allowCredentials``)."""

    credential_id: bytes
    transports: list[str]


class NewCredential(msgspec.Struct, frozen=True):
    """What a verified registration stores."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: list[str]
    aaguid: UUID
    backup_eligible: bool
    backed_up: bool


class Assertion(msgspec.Struct, frozen=True):
    """A verified assertion: signature, origin, RP id, challenge and user verification all good."""

    credential_id: bytes
    sign_count: int
    backup_eligible: bool
    backed_up: bool
    user_verified: bool


def parse_assertion(credential_json: str) -> AuthenticationCredential:
    """The browser's ``navigator.credentials.get()`` answer, or ``PasskeyRefused("malformed")``."""
    if len(credential_json) > MAX_CREDENTIAL_JSON:
        raise PasskeyRefused("malformed")
    try:
        return parse_authentication_credential_json(credential_json)
    except _MALFORMED:
        raise PasskeyRefused("malformed") from None


def answered_challenge(credential: AuthenticationCredential) -> bytes:
    """The challenge the authenticator signed (in ``clientDataJSON``), before any other check:
    a stateless login challenge must be checked and spent before the signature is."""
    try:
        return parse_client_data_json(credential.response.client_data_json).challenge
    except _MALFORMED as exc:
        raise PasskeyRefused("invalid", str(exc)) from None


def _descriptors(credentials: Sequence[KnownCredential]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=c.credential_id, transports=[AuthenticatorTransport(t) for t in c.transports if t in known]
        )
        for c in credentials
    ]


class RelyingParty:
    __slots__ = ("_timeout_ms", "name", "origins", "rp_id")

    def __init__(self, settings: PasskeySettings, *, issuer: str) -> None:
        """RP id and origins default to the issuer's host and origin (``settings`` may name others)."""
        parts = urlsplit(issuer)
        self.rp_id = settings.webauthn_rp_id or parts.hostname or ""
        self.name = settings.webauthn_rp_name
        self.origins = [o.rstrip("/") for o in settings.webauthn_origins] or [
            f"{parts.scheme}://{parts.netloc}"
        ]
        self._timeout_ms = settings.webauthn_ceremony_ttl * 1000
        if not self.rp_id:
            raise ValueError("AUTH_WEBAUTHN_RP_ID is empty and the issuer names no host")

    def registration_options(
        self,
        challenge: bytes,
        *,
        user_handle: bytes,
        user_name: str,
        display_name: str,
        registered: Sequence[KnownCredential],
    ) -> dict[str, Any]:
        """``PublicKeyCredentialCreationOptions`` as JSON (base64url bytes) for ``credentials.create``."""
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=self.name,
            user_id=user_handle,
            user_name=user_name,
            user_display_name=display_name,
            challenge=challenge,
            timeout=self._timeout_ms,
            attestation=AttestationConveyancePreference.NONE,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=_descriptors(registered),
            supported_pub_key_algs=ALGORITHMS,
        )
        return options_to_json_dict(options)

    def authentication_options(
        self,
        challenge: bytes,
        *,
        allowed: Sequence[KnownCredential],
        verification: Literal["required", "preferred"],
    ) -> dict[str, Any]:
        """``PublicKeyCredentialRequestOptions`` as JSON; ``allowed`` empty for a discoverable login."""
        options = generate_authentication_options(
            rp_id=self.rp_id,
            challenge=challenge,
            timeout=self._timeout_ms,
            allow_credentials=_descriptors(allowed),
            user_verification=UserVerificationRequirement(verification),
        )
        return options_to_json_dict(options)

    def verify_registration(self, credential_json: str, challenge: bytes) -> NewCredential:
        """The new credential, or ``PasskeyRefused`` (wrong origin, RP id, challenge, no UV...)."""
        if len(credential_json) > MAX_CREDENTIAL_JSON:
            raise PasskeyRefused("malformed")
        try:
            credential = parse_registration_credential_json(credential_json)
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origins,
                require_user_verification=True,
                supported_pub_key_algs=ALGORITHMS,
            )
        except _MALFORMED as exc:
            raise PasskeyRefused("invalid", str(exc)) from None
        return NewCredential(
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=sorted({t.value for t in credential.response.transports or ()}),
            aaguid=UUID(verified.aaguid),
            backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            backed_up=verified.credential_backed_up,
        )

    def verify_assertion(
        self,
        credential: AuthenticationCredential,
        challenge: bytes,
        *,
        public_key: bytes,
        require_verification: bool,
    ) -> Assertion:
        """Everything but the counter (``sign_count`` is handed back for the repository to compare)."""
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origins,
                credential_public_key=public_key,
                credential_current_sign_count=0,  # 0: the library compares nothing, we do
                require_user_verification=require_verification,
            )
        except _MALFORMED as exc:
            raise PasskeyRefused("invalid", str(exc)) from None
        return Assertion(
            credential_id=verified.credential_id,
            sign_count=verified.new_sign_count,
            backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            backed_up=verified.credential_backed_up,
            user_verified=verified.user_verified,
        )
