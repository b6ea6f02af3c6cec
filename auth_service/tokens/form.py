"""Reading an OAuth request body: ``application/x-www-form-urlencoded``, every parameter at most once.

RFC 6749 section 3.2: parameters sent without a value are treated as omitted, and request and
response parameters must not be included more than once (``invalid_request``).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from auth_service.tokens.errors import invalid_request

__all__ = ["FORM", "parse_form"]

FORM = "application/x-www-form-urlencoded"
_MAX_FIELDS = 32


def parse_form(content_type: str, body: bytes) -> dict[str, str]:
    if content_type.split(";", 1)[0].strip().lower() != FORM:
        raise invalid_request(f"The request body must be {FORM}.")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=_MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise invalid_request("The request body is not valid form data.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise invalid_request(f"The parameter {name} is repeated.")
        form[name] = value
    return {name: value for name, value in form.items() if value != ""}
