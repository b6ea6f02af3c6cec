"""Reading an OAuth request body: ``application/x-www-form-urlencoded``, every parameter at most once.

RFC 6749 section 3.2: parameters sent without a value are treated as omitted, and request and
response parameters must not be included more than once (``invalid_request``). The one exception
is ``resource`` (RFC 8707 section 2), which may repeat: its values are joined with spaces (no
resource identifier holds one). How many
parameters and how long each may be are settings (``AUTH_OAUTH_MAX_PARAMS``,
``AUTH_OAUTH_MAX_PARAM_CHARS``): no legitimate request comes near them, and a token, username or
password longer than that is refused before any lookup or hashing. So is a NUL character
anywhere: no OAuth parameter can hold one, and PostgreSQL text cannot store it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from auth_service.tokens.errors import OAuthError, invalid_request

__all__ = ["FORM", "REPEATABLE", "parse_form"]

FORM = "application/x-www-form-urlencoded"
REPEATABLE = frozenset({"resource"})


def parse_form(
    content_type: str, body: bytes, *, max_params: int = 32, max_chars: int = 8192
) -> dict[str, str]:
    if content_type.split(";", 1)[0].strip().lower() != FORM:
        raise invalid_request(f"The request body must be {FORM}.")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=max_params
        )
    except UnicodeDecodeError:
        raise invalid_request("The request body is not valid form data.") from None
    except ValueError:
        raise invalid_request(f"The request has more than {max_params} parameters.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if len(name) > max_chars or len(value) > max_chars:
            raise invalid_request(f"A parameter is longer than {max_chars} characters.")
        if "\x00" in name or "\x00" in value:  # no identifier, secret or token holds one; PostgreSQL can't
            raise invalid_request("A parameter contains a NUL character.")
        if name in REPEATABLE:
            if " " in value:
                raise OAuthError("invalid_target", f"A {name} holds no space.")
            form[name] = f"{form.get(name, '')} {value}".strip()
            continue
        if name in form:
            raise invalid_request(f"The parameter {name} is repeated.")
        form[name] = value
    return {name: value for name, value in form.items() if value != ""}
