"""415 for a request body in a media type its endpoint does not take.

Litestar decodes a JSON body whatever ``Content-Type`` says; an API that answers 400 "malformed
JSON" to a form post hides the real mistake. This ``before_request`` hook compares the request's
media type with the one the handler's ``data`` declares (JSON by default, ``Body(media_type=...)``
otherwise); ``application/*+json`` types such as ``merge-patch+json`` count as JSON.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.params import BodyKwarg

from shared.http.problems import ProblemError

__all__ = ["require_declared_content_type"]


def _declared(request: Request[Any, Any, Any]) -> str | None:
    field = request.route_handler.parsed_data_field
    if field is None:
        return None
    kwarg = field.kwarg_definition
    if isinstance(kwarg, BodyKwarg) and kwarg.media_type:
        return str(kwarg.media_type.value if hasattr(kwarg.media_type, "value") else kwarg.media_type)
    return RequestEncodingType.JSON.value


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def require_declared_content_type(request: Request[Any, Any, Any]) -> None:
    declared = _declared(request)
    if declared is None:
        return
    actual = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if actual == declared or (declared == RequestEncodingType.JSON.value and _is_json(actual)):
        return
    raise ProblemError(
        415,
        "unsupported-media-type",
        f"This endpoint takes {declared}, not {actual or 'a body without Content-Type'}.",
        headers={"Accept": declared},
    )
