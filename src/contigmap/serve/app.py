"""The Starlette application of ``contigmap serve``.

Routes (JSON in and out; a session is named by the ``X-Session`` header or ``session``
query parameter)::

    GET  /                    the editing map (page.py; offline: every asset inlined)
    GET  /api/region          roads and villages (GeoJSON ids, lon/lat), baseline minutes
    POST /api/session         open a session → {"session": id, ...current answer}
    POST /api/edit            {kind: upgrade|close|build|bus|season, ...} → answer
    POST /api/undo, /api/redo → answer
    GET  /api/scenario.yaml   the session's edits as a scenario file
    POST /api/load            {"yaml": text} → answer
    GET  /api/compare?a=&b=   headline numbers of two sessions' scenarios side by side

Every body is read with a size cap (:data:`MAX_BODY_BYTES`, 413 beyond it) and validated
by a strict pydantic model (:mod:`contigmap.serve.models`; 422 with a one-line message).
Bad edits are 422 with the scenario model's message. With a ``token`` every request must
carry it (``X-Token`` header or ``token`` query parameter; 401 otherwise); the CLI sets
one whenever the server listens beyond localhost. Each answer carries ``server_ms``
(also logged).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from contigmap.errors import ContigmapError
from contigmap.serve.models import EDIT_MODELS, Edit, LoadBody
from contigmap.serve.page import serve_page
from contigmap.serve.region import ServedRegion
from contigmap.serve.session import Session, SessionError, SessionStore

__all__ = ["MAX_BODY_BYTES", "create_app"]

logger = logging.getLogger(__name__)

#: Largest request body accepted (bytes).
MAX_BODY_BYTES = 64 * 1024
_EDIT = TypeAdapter(Edit)


class _HTTPProblem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _pydantic_message(err: PydanticValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(x) for x in first["loc"] if not str(x).startswith("function-"))
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{where or 'body'}: {first['msg']}{more}"


async def _body(request: Request) -> Any:
    """Read the JSON body with a size cap."""
    size = request.headers.get("content-length")
    if size is not None and (not size.isdigit() or int(size) > MAX_BODY_BYTES):
        raise _HTTPProblem(413, f"request body over {MAX_BODY_BYTES} bytes")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise _HTTPProblem(413, f"request body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks) or b"null")
    except (ValueError, UnicodeDecodeError) as err:
        raise _HTTPProblem(400, f"the body is not JSON ({err})") from err


def _edit(raw: Any) -> BaseModel:
    if not isinstance(raw, dict) or raw.get("kind") not in EDIT_MODELS:
        raise _HTTPProblem(422, f"kind: give one of {', '.join(EDIT_MODELS)}")
    try:
        out: BaseModel = _EDIT.validate_python(raw)
    except PydanticValidationError as err:
        raise _HTTPProblem(422, f"{raw['kind']}: {_pydantic_message(err)}") from err
    return out


def create_app(region: ServedRegion, *, token: str | None = None,
               max_sessions: int | None = None) -> Starlette:
    """Build the app for one served region.

    Parameters
    ----------
    region
        The prepared region (:meth:`ServedRegion.prepare`).
    token
        When given, every request must carry it (``X-Token`` or ``?token=``).
    max_sessions
        Bound on open sessions (default :data:`contigmap.serve.session.MAX_SESSIONS`).
    """
    store = SessionStore(region) if max_sessions is None else SessionStore(region, max_sessions)
    region_body = json.dumps(region.region_json(), ensure_ascii=False,
                             separators=(",", ":")).encode("utf-8")

    def session_of(request: Request) -> Session:
        return store.get(request.headers.get("x-session") or request.query_params.get("session"))

    async def in_session(request: Request, work: Callable[[Session], dict[str, Any]]
                         ) -> dict[str, Any]:
        sess = session_of(request)

        def locked() -> dict[str, Any]:
            with sess.lock:
                return work(sess)

        return await run_in_threadpool(locked)

    async def page(request: Request) -> Response:
        return HTMLResponse(serve_page(region.name))

    async def region_json(request: Request) -> Response:
        return Response(region_body, media_type="application/json")

    async def new_session(request: Request) -> dict[str, Any]:
        sess = store.create()
        out = await run_in_threadpool(sess.current)
        return {"session": sess.sid, **out}

    async def edit(request: Request) -> dict[str, Any]:
        ed = _edit(await _body(request))
        return await in_session(request, lambda s: s.edit(ed))  # type: ignore[arg-type]

    async def undo(request: Request) -> dict[str, Any]:
        return await in_session(request, lambda s: s.undo())

    async def redo(request: Request) -> dict[str, Any]:
        return await in_session(request, lambda s: s.redo())

    async def load(request: Request) -> dict[str, Any]:
        try:
            body = LoadBody.model_validate(await _body(request))
        except PydanticValidationError as err:
            raise _HTTPProblem(422, _pydantic_message(err)) from err
        return await in_session(request, lambda s: s.load(body.yaml))

    async def scenario_yaml(request: Request) -> Response:
        sess = session_of(request)
        with sess.lock:
            if not any(op.change for op in sess.ops):
                raise _HTTPProblem(409, "no road or bus change yet; a scenario file needs one")
            text = sess.yaml_text()
        return PlainTextResponse(text, media_type="application/yaml", headers={
            "Content-Disposition": f'attachment; filename="{sess.name}.yaml"'})

    async def compare(request: Request) -> dict[str, Any]:
        a, b = (store.get(request.query_params.get(k)) for k in ("a", "b"))
        out = {}
        for key, sess in (("a", a), ("b", b)):
            res = await in_session_obj(sess)
            out[key] = {"name": sess.name, "edits": res["edits"], "headline": res["headline"]}
        return out

    async def in_session_obj(sess: Session) -> dict[str, Any]:
        def locked() -> dict[str, Any]:
            with sess.lock:
                return sess.current()
        return await run_in_threadpool(locked)

    def api(fn: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            t0 = time.perf_counter()
            if token is not None and not _token_ok(request, token):
                return JSONResponse({"error": "missing or wrong token; open the address the "
                                              "server printed"}, status_code=401)
            try:
                out = await fn(request)
            except _HTTPProblem as err:
                return JSONResponse({"error": err.message}, status_code=err.status)
            except SessionError as err:
                status = 404 if "unknown" in str(err) else 409
                return JSONResponse({"error": str(err)}, status_code=status)
            except ContigmapError as err:
                return JSONResponse({"error": str(err)}, status_code=422)
            ms = (time.perf_counter() - t0) * 1000.0
            logger.info("%s %s: %.1f ms", request.method, request.url.path, ms)
            if isinstance(out, Response):
                return out
            return JSONResponse({**out, "server_ms": round(ms, 2)})
        return handler

    routes = [
        Route("/", api(page)),
        Route("/api/region", api(region_json)),
        Route("/api/session", api(new_session), methods=["POST"]),
        Route("/api/edit", api(edit), methods=["POST"]),
        Route("/api/undo", api(undo), methods=["POST"]),
        Route("/api/redo", api(redo), methods=["POST"]),
        Route("/api/load", api(load), methods=["POST"]),
        Route("/api/scenario.yaml", api(scenario_yaml)),
        Route("/api/compare", api(compare)),
    ]
    app = Starlette(routes=routes)
    app.state.sessions = store
    return app


def _token_ok(request: Request, token: str) -> bool:
    given = request.headers.get("x-token") or request.query_params.get("token") or ""
    return secrets.compare_digest(given.encode("utf-8"), token.encode("utf-8"))
