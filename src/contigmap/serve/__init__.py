"""``contigmap serve``: road scenarios edited live in the browser.

One region per server, prepared once (:class:`~contigmap.serve.region.ServedRegion`);
each browser tab edits its own scenario (:mod:`contigmap.serve.session`) through the JSON
API of :func:`~contigmap.serve.app.create_app`; the edits save as a scenario YAML that
``contigmap scenario run`` reproduces exactly.

Typical use::

    from contigmap.serve import ServedRegion, create_app
    app = create_app(ServedRegion.prepare("layers/huayuan/region.yaml"))
"""

from __future__ import annotations

from contigmap.serve.app import MAX_BODY_BYTES, create_app
from contigmap.serve.region import ServedRegion
from contigmap.serve.session import MAX_EDITS, MAX_SESSIONS, Session, SessionStore

__all__ = ["MAX_BODY_BYTES", "MAX_EDITS", "MAX_SESSIONS", "ServedRegion", "Session",
           "SessionStore", "create_app"]
