"""OpenAPI documentation of a form body that a handler reads itself.

The OAuth endpoints parse ``application/x-www-form-urlencoded`` by hand (repeated parameters and
wrong media types must become RFC 6749 errors, not problem+json), so Litestar sees no ``data``
parameter to document; ``form_operation`` puts the form's schema back into ``/schema``.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

__all__ = ["form_operation"]


def form_operation(fields: dict[str, str], required: list[str]) -> type[Operation]:
    """An ``Operation`` class whose request body is a form with string ``fields`` (name: description)."""
    body = RequestBody(
        required=True,
        content={
            "application/x-www-form-urlencoded": OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.OBJECT,
                    properties={
                        name: Schema(type=OpenAPIType.STRING, description=text)
                        for name, text in fields.items()
                    },
                    required=required,
                )
            )
        },
    )

    @dataclass
    class FormOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return FormOperation
