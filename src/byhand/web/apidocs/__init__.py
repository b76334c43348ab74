"""The API's browsable documentation at /docs: Swagger UI served from the files the installed
`fastapi-offline` package ships, so it works offline and under the site's own policy (no inline
script, no inline style, nothing from another origin). ReDoc is not served: it injects inline
styles, which the policy forbids.

(`swagger-ui-bundle` ships Swagger UI 4, which cannot read FastAPI's OpenAPI 3.1 schema.)
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException

HERE = Path(__file__).parent
DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
#: this folder's own files: the page's start script
OWN = {"init.js": "text/javascript"}
#: the files of Swagger UI the page loads, and nothing else of the package
SWAGGER = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon.png": "image/png",
}

router = APIRouter(include_in_schema=False)


def swagger_ui_folder() -> Path | None:
    """Where the installed Swagger UI's files are, or None when the package is missing."""
    try:
        folder = Path(str(importlib.resources.files("fastapi_offline") / "static"))
    except ImportError:
        return None
    return folder if all((folder / name).is_file() for name in SWAGGER) else None


@router.get(DOCS_PATH, response_class=HTMLResponse)
def docs() -> HTMLResponse:
    """Swagger UI over /openapi.json, from this server alone."""
    if swagger_ui_folder() is None:
        raise HTTPException(
            503, "the API's documentation page needs the fastapi-offline package installed"
        )
    return HTMLResponse((HERE / "docs.html").read_text(encoding="utf-8"))


@router.get(ASSETS_PATH + "/{name}")
def asset(name: str) -> FileResponse:
    """One of the page's files, by name from a fixed list (no path reaches anything else)."""
    if name in OWN:
        return FileResponse(HERE / name, media_type=OWN[name])
    folder = swagger_ui_folder()
    if name not in SWAGGER or folder is None:
        raise HTTPException(404, f"{name}: no such file of the documentation page")
    return FileResponse(folder / name, media_type=SWAGGER[name])
