"""A ``Request`` whose JSON body can only fail as a 400, however hostile.

Litestar decodes a JSON body untyped first and turns only ``msgspec.DecodeError`` into a 400: a
body nested thousands of levels deep raises ``RecursionError`` and invalid UTF-8 raises
``UnicodeDecodeError``, both of which would answer 500. No request body of ours nests more than
a few levels, so hitting the decoder's recursion limit is the JSON depth limit, answered 400.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException

__all__ = ["JsonBodyRequest"]


class JsonBodyRequest(Request[Any, Any, Any]):
    """Pass as ``Litestar(request_class=JsonBodyRequest)``."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise ClientException("The JSON body is nested too deeply.") from None
        except UnicodeDecodeError:
            raise ClientException("The JSON body is not valid UTF-8.") from None
