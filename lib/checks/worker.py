"""The check-run worker process of the dashboard (lib.checks.latest): `python -m lib.checks.worker`.

It reads requests from its standard input and writes answers to its standard output, both pickled
and length-prefixed: a request is (settings, reuse_firebase_s, listings epoch: lib.checks.sync.listings_epoch); the answer is (run, None) with the
run saved in the history, or (None, one sentence). It opens the stores once, from the first
request's settings (one worker serves one configuration), and keeps them, with the Firebase listing
it may reuse, for the next requests. It ends when its standard input closes (the dashboard went).

A process of its own rather than a thread of the dashboard: a run is seconds to a minute of Python
that would hold the interpreter lock against every page's rerun; and rather than multiprocessing,
whose children re-run the parent's main script (under Streamlit, app.py) before they start.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from typing import IO, Any

_LEN = struct.Struct("!Q")


def write_message(out: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LEN.pack(len(data)) + data)
    out.flush()


def read_message(inp: IO[bytes]) -> Any:
    """The next message, or raises EOFError when the other side has gone."""
    head = inp.read(_LEN.size)
    if len(head) < _LEN.size:
        raise EOFError("the other side closed the pipe")
    size = _LEN.unpack(head)[0]
    data = inp.read(size)
    if len(data) < size:
        raise EOFError("the other side closed the pipe")
    return pickle.loads(data)  # our own process on the other end of a private pipe


def main() -> int:
    from lib import history
    from lib.checks.runner import run_checks
    from lib.checks.sync import forget_firebase_listings
    from lib.errors import safe_message
    from lib.stores import Stores, open_stores

    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(1), "wb")  # the answers' pipe, kept apart: nothing else may write to it
    os.dup2(2, 1)  # what else prints (Python or a library's C code) goes to standard error
    sys.stdout = sys.stderr
    stores: Stores | None = None
    epoch = 0
    while True:
        try:
            settings, reuse_firebase_s, asked_epoch = read_message(inp)
        except EOFError:
            return 0
        if asked_epoch != epoch:  # the dashboard forgot its Firebase listings: so does the worker
            forget_firebase_listings()
            epoch = asked_epoch
        try:
            if stores is None:
                stores = open_stores(settings)
            run = history.record_run(stores, run_checks(stores, firebase_max_age_s=reuse_firebase_s), source="web")
            answer: tuple[Any, str | None] = (run, None)
        except Exception as exc:  # noqa: BLE001 - handed back as one sentence, shown on the pages
            answer = (None, safe_message(exc, settings.secret_values()))
        write_message(out, answer)


if __name__ == "__main__":
    raise SystemExit(main())
