"""Email addresses as account names: validated, and normalised so one mailbox is one account.

NFKC first (full-width and compatibility forms fold to their plain letters), then email-validator's
normalisation (domain lower-cased and IDNA-checked); the column is ``citext``, so case differences
in the local part also name the same account.
"""

from __future__ import annotations

import functools
import unicodedata

from email_validator import EmailNotValidError, validate_email

__all__ = ["InvalidEmail", "normalise_email"]

MAX_EMAIL_LENGTH = 320


class InvalidEmail(ValueError):
    pass


# A login normalises its username three times (throttle keys before and after, account lookup):
# email-validator is a tenth of the event loop's work per login. Failures are not cached.
@functools.lru_cache(maxsize=1024)
def normalise_email(email: str) -> str:
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(f"The email address must be at most {MAX_EMAIL_LENGTH} characters long.")
    folded = unicodedata.normalize("NFKC", email.strip())
    try:
        result = validate_email(folded, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from None
    return str(result.normalized)
