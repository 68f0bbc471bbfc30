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
    POST /api/compare         {"a": yaml, "b": yaml} → two scenarios' headline numbers side
                              by side and the villages differing (compare.py)

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

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from contigmap.errors import ContigmapError
from contigmap.serve.compare import compare_texts
from contigmap.serve.models import EDIT_MODELS, CompareBody, LoadBody
from contigmap.serve.page import serve_page
from contigmap.serve.region import ServedRegion
from contigmap.serve.session import Session, SessionError, SessionStore

__all__ = ["MAX_BODY_BYTES", "create_app"]

logger = logging.getLogger(__name__)

#: Largest request body accepted (bytes).
MAX_BODY_BYTES = 64 * 1024


class _HTTPProblemError(ContigmapError):
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
        raise _HTTPProblemError(413, f"request body over {MAX_BODY_BYTES} bytes")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise _HTTPProblemError(413, f"request body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks) or b"null")
    except (ValueError, UnicodeDecodeError) as err:
        raise _HTTPProblemError(400, f"the body is not JSON ({err})") from err


def _edit(raw: Any) -> BaseModel:
    if not isinstance(raw, dict) or raw.get("kind") not in EDIT_MODELS:
        raise _HTTPProblemError(422, f"kind: give one of {', '.join(EDIT_MODELS)}")
    try:
        out: BaseModel = EDIT_MODELS[raw["kind"]].model_validate(raw)
    except PydanticValidationError as err:
        raise _HTTPProblemError(422, f"{raw['kind']}: {_pydantic_message(err)}") from err
    return out


class _Api:
    """The endpoints, bound to one region's session store."""

    def __init__(self, region: ServedRegion, store: SessionStore, token: str | None) -> None:
        self.region, self.store, self.token = region, store, token
        self.region_body = json.dumps(region.region_json(), ensure_ascii=False,
                                      separators=(",", ":")).encode("utf-8")

    def session_of(self, request: Request) -> Session:
        return self.store.get(request.headers.get("x-session")
                              or request.query_params.get("session"))

    @staticmethod
    async def locked(sess: Session, work: Callable[[Session], dict[str, Any]]
                     ) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            with sess.lock:
                return work(sess)

        return await run_in_threadpool(run)

    async def page(self, request: Request) -> Response:
        return HTMLResponse(serve_page(self.region.name))

    async def region_json(self, request: Request) -> Response:
        return Response(self.region_body, media_type="application/json")

    async def new_session(self, request: Request) -> dict[str, Any]:
        sess = self.store.create()
        out = await self.locked(sess, Session.current)
        return {"session": sess.sid, **out}

    async def edit(self, request: Request) -> dict[str, Any]:
        ed = _edit(await _body(request))
        return await self.locked(self.session_of(request),
                                 lambda s: s.edit(ed))  # type: ignore[arg-type]

    async def undo(self, request: Request) -> dict[str, Any]:
        return await self.locked(self.session_of(request), Session.undo)

    async def redo(self, request: Request) -> dict[str, Any]:
        return await self.locked(self.session_of(request), Session.redo)

    async def load(self, request: Request) -> dict[str, Any]:
        try:
            body = LoadBody.model_validate(await _body(request))
        except PydanticValidationError as err:
            raise _HTTPProblemError(422, _pydantic_message(err)) from err
        return await self.locked(self.session_of(request), lambda s: s.load(body.yaml))

    async def scenario_yaml(self, request: Request) -> Response:
        sess = self.session_of(request)

        def saved() -> str:
            with sess.lock:
                if not any(op.change for op in sess.ops):
                    raise _HTTPProblemError(409, "no road or bus change yet; a scenario file "
                                                 "needs one")
                return sess.yaml_text()

        text = await run_in_threadpool(saved)
        return PlainTextResponse(text, media_type="application/yaml", headers={
            "Content-Disposition": f'attachment; filename="{sess.name}.yaml"'})

    async def compare(self, request: Request) -> dict[str, Any]:
        out = {}
        for key in ("a", "b"):
            sess = self.store.get(request.query_params.get(key))
            res = await self.locked(sess, Session.current)
            out[key] = {"name": sess.name, "edits": res["edits"], "headline": res["headline"]}
        return out

    async def compare_yaml(self, request: Request) -> dict[str, Any]:
        try:
            body = CompareBody.model_validate(await _body(request))
        except PydanticValidationError as err:
            raise _HTTPProblemError(422, _pydantic_message(err)) from err
        return await run_in_threadpool(compare_texts, self.region, body.a, body.b)

    def wrap(self, fn: Callable[[Request], Awaitable[Any]]
             ) -> Callable[[Request], Awaitable[Response]]:
        """Check the token, turn errors into JSON 4xx answers, time and log the request."""
        async def handler(request: Request) -> Response:
            t0 = time.perf_counter()
            if self.token is not None and not _token_ok(request, self.token):
                return JSONResponse({"error": "missing or wrong token; open the address the "
                                              "server printed"}, status_code=401)
            try:
                out = await fn(request)
            except _HTTPProblemError as err:
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
    a = _Api(region, store, token)
    post = ["POST"]
    routes = [
        Route("/", a.wrap(a.page)),
        Route("/api/region", a.wrap(a.region_json)),
        Route("/api/session", a.wrap(a.new_session), methods=post),
        Route("/api/edit", a.wrap(a.edit), methods=post),
        Route("/api/undo", a.wrap(a.undo), methods=post),
        Route("/api/redo", a.wrap(a.redo), methods=post),
        Route("/api/load", a.wrap(a.load), methods=post),
        Route("/api/scenario.yaml", a.wrap(a.scenario_yaml)),
        Route("/api/compare", a.wrap(a.compare)),
        Route("/api/compare", a.wrap(a.compare_yaml), methods=post),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
    ]
    app = Starlette(routes=routes)
    app.state.sessions = store
    return app


def _token_ok(request: Request, token: str) -> bool:
    given = request.headers.get("x-token") or request.query_params.get("token") or ""
    return secrets.compare_digest(given.encode("utf-8"), token.encode("utf-8"))
