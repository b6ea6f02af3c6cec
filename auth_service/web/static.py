"""``/static/...``: our stylesheet and scripts, ``brand.css`` made from the settings, the theme folder.

Everything is read into memory when the service is built (a few small files), so a request never
touches the file system and no path from a URL is ever joined to a folder: a name is served only
if it is a key of the table, which makes traversal (``..``, encoded slashes) impossible. The theme
folder (``AUTH_THEME_DIR``) is read once too: changing a theme means a restart, like any setting.

``brand.css`` carries the colours as CSS custom properties because the page's CSP allows no inline
style. Links carry ``?v=<digest>``, so a versioned URL may be cached for a year; any other one an
hour. Every answer has ``nosniff`` and a sandboxing CSP: an SVG opened directly runs no script.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Final

import msgspec
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from auth_service.browser_settings import WebSettings
from auth_service.web.brand import brand_css

__all__ = ["STATIC_DIR", "StaticFile", "StaticFiles"]

log = logging.getLogger(__name__)

STATIC_DIR: Final = Path(__file__).parent / "static"
MEDIA_TYPES: Final = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
"""What may be served; any other file of a folder (a stray ``.env``, a backup) is not. Litestar
adds ``; charset=utf-8`` to the text types."""
MAX_THEME_BYTES: Final = 10 * 1024 * 1024
STATIC_CSP: Final = "default-src 'none'; img-src 'self' data:; style-src 'self'; font-src 'self'; sandbox"


class StaticFile(msgspec.Struct, frozen=True):
    body: bytes
    media_type: str
    digest: str


def _file(body: bytes, media_type: str) -> StaticFile:
    return StaticFile(body, media_type, hashlib.sha256(body).hexdigest()[:12])


def _folder(root: Path, prefix: str, limit: int) -> dict[str, StaticFile]:
    files: dict[str, StaticFile] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        media_type = MEDIA_TYPES.get(path.suffix.lower())
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or media_type is None or relative.startswith(".") or "/." in relative:
            continue
        body = path.read_bytes()
        total += len(body)
        if total > limit:
            raise ValueError(f"{root} holds more than {limit} bytes of files to serve")
        files[prefix + relative] = _file(body, media_type)
    return files


class StaticFiles:
    """The table of what ``/static/`` serves, and the versioned URL of each entry."""

    __slots__ = ("_files",)

    def __init__(self, web: WebSettings, directory: Path = STATIC_DIR) -> None:
        self._files = _folder(directory, "", MAX_THEME_BYTES)
        if web.theme_dir:
            theme = Path(web.theme_dir)
            if not theme.is_dir():
                raise ValueError(f"AUTH_THEME_DIR {web.theme_dir!r} is not a folder")
            self._files.update(_folder(theme, "theme/", MAX_THEME_BYTES))
        self._files["brand.css"] = _file(brand_css(web.primary_color).encode(), MEDIA_TYPES[".css"])

    def has(self, name: str) -> bool:
        return name in self._files

    def url(self, name: str) -> str:
        """``/static/<name>?v=<digest>``; an unknown name raises (a template's typo shows in tests)."""
        return f"/static/{name}?v={self._files[name].digest}"

    def handler(self) -> HTTPRouteHandler:
        files = self._files

        @get(
            "/static/{name:path}",
            include_in_schema=False,
            opt={"exclude_from_auth": True},
            sync_to_thread=False,
            cache=False,
        )
        def static_file(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
            found = files.get(name.lstrip("/"))
            if found is None:
                return Response(b"", status_code=404, headers={"X-Content-Type-Options": "nosniff"})
            versioned = request.query_params.get("v") == found.digest
            cache = "public, max-age=31536000, immutable" if versioned else "public, max-age=3600"
            return Response(
                found.body,
                media_type=found.media_type,
                headers={
                    "Cache-Control": cache,
                    "ETag": f'"{found.digest}"',
                    "Content-Security-Policy": STATIC_CSP,
                    "X-Content-Type-Options": "nosniff",
                    "Cross-Origin-Resource-Policy": "same-origin",
                },
            )

        return static_file
