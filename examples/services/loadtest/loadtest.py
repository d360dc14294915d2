"""Load and fault test of orders-api and inventory-api (loopback only, bounded).

Runs two orders-api and two inventory-api replicas as uvicorn processes against
the test PostgreSQL (run.sh starts it and passes DATABASE_URLs), with a
round-robin TCP proxy in front of the inventory replicas standing in for the
Kubernetes Service. Clients place orders on scarce stock concurrently, each
with an Idempotency-Key, retrying 503s and lost responses with the same key (what
the README tells clients to do). Phases:

  baseline            load only
  replica restart     one inventory replica and one orders-api replica are killed
                      (SIGKILL, mid-request) and started again
  database restart    PostgreSQL is restarted under load
  stalled dependency  inventory-api accepts connections but answers nothing for 3 s
  credential rotation both services' database passwords are rotated the way Secrets
                      Manager's multi-user rotation does it: the other user
                      (`<role>_clone`) gets a new password and the mounted credential
                      files (kubelet's `..data` layout) switch to it; 2 s later the
                      previous user's password changes (rotation N+1). Pools replace
                      connections every 5 s, so new ones open throughout. Any request
                      failed by authentication fails the verdict.

Then it waits for the sweepers to settle every hold and prints throughput,
p50/p99 per phase and an integrity verdict: no oversell, no orphan reservation,
no duplicate order. Exit status 1 on a failed verdict, 2 on a setup failure or
when the time bound is exceeded.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import httpx
import jwt
import psycopg
from psycopg.conninfo import conninfo_to_dict

from fx_service_kit.rotation_testing import RotatingRole

HERE = Path(__file__).resolve().parent
SERVICES = HERE.parent
SECRET = "loadtest-signing-key-0123456789abcdef-0123456789"
# Each phase sells its own SKU, with less stock than its orders ask for.
PHASES = ["baseline", "replica restart", "database restart", "stalled dependency", "credential rotation"]
SKUS = [f"SCARCE-{i + 1}" for i in range(len(PHASES))]
STOCK = 200
STALL_SECONDS = 3.0
ROTATION_OVERLAP_SECONDS = 2.0
POOL_MAX_LIFETIME_SECONDS = 5
# The rotation phase keeps its load until every pooled connection of before the rotation has reached
# its lifetime (psycopg_pool adds up to 5 % jitter), so each service must open new ones with the new user.
ROTATION_PHASE_MIN_SECONDS = 0.5 + ROTATION_OVERLAP_SECONDS + POOL_MAX_LIFETIME_SECONDS * 1.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proxy:
    """Round-robin TCP proxy on loopback; `stall_until` makes it hold new and open connections."""

    def __init__(self, backends: List[int]) -> None:
        self.backends = backends
        self.port = free_port()
        self.stall_until = 0.0
        self._next = 0
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._loop.run_until_complete(server.serve_forever())

    async def _stall(self) -> None:
        while time.monotonic() < self.stall_until:
            await asyncio.sleep(0.05)

    async def _pipe(self, reader, writer) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                await self._stall()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_reader, client_writer) -> None:
        await self._stall()
        port = self.backends[self._next % len(self.backends)]
        self._next += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))


class Service:
    def __init__(self, name: str, module: str, root: Path, env: Dict[str, str]) -> None:
        self.name, self.module, self.root = name, module, root
        self.port = free_port()
        self.env = {**os.environ, **env, "PYTHONPATH": f"{root}:{SERVICES / 'common'}", "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc: Optional[subprocess.Popen] = None
        self.log = open(f"/tmp/loadtest-{name}-{self.port}.log", "a")

    def start(self) -> None:
        cmd = [sys.executable, "-m", "uvicorn", "--factory", f"{self.module}:create_app",
               "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
        self.proc = subprocess.Popen(cmd, cwd="/tmp", env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"setup: {self.name} did not become ready (log: {self.log.name})")
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Client:
    """Places orders like a well-behaved client: one Idempotency-Key per order, retried on 503 and lost responses."""

    def __init__(self, urls: List[str], deadline: float) -> None:
        self.urls = urls
        self.deadline = deadline
        now = int(time.time())
        self.token = jwt.encode({"sub": "shopper", "iss": "fx-platform", "aud": "orders-api", "iat": now,
                                 "exp": now + 3000}, SECRET, algorithm="HS256")
        self.lock = threading.Lock()
        self.created: Dict[str, str] = {}  # idempotency key -> order id (every 201 seen)
        self.latencies: List[float] = []
        self.outcomes: Dict[str, int] = {}
        self.requests = 0

    def _count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def order(self, n: int, sku: str) -> None:
        key = uuid.uuid4().hex
        body = {"customer_id": f"c-{n % 50}", "sku": sku, "quantity": 1 + n % 2, "unit_price": "9.99", "currency": "EUR"}
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
        for attempt in range(8):
            if time.monotonic() > self.deadline:
                self._count("gave up (time bound)")
                return
            url = self.urls[(n + attempt) % len(self.urls)]
            started = time.perf_counter()
            try:
                with self.lock:
                    self.requests += 1
                resp = httpx.post(f"{url}/orders", json=body, headers=headers, timeout=10)
            except httpx.TransportError:
                self._count("lost response, retried")
                time.sleep(0.2 * (attempt + 1))
                continue
            elapsed = time.perf_counter() - started
            if resp.status_code == 201:
                with self.lock:
                    previous = self.created.setdefault(key, resp.json()["id"])
                    self.latencies.append(elapsed)
                if previous != resp.json()["id"]:
                    self._count("DIFFERENT ORDER FOR ONE KEY")
                self._count("created")
                return
            if resp.status_code == 409:
                self._count("sold out (409)")
                return
            if resp.status_code == 503:
                self._count("503, retried")
                time.sleep(float(resp.headers.get("retry-after", "1")) / 5 * (attempt + 1))
                continue
            self._count(f"unexpected {resp.status_code}")
            return
        self._count("gave up after retries")


def percentile(values: List[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run_phase(name: str, sku: str, client: Client, orders: int, concurrency: int,
              fault=None, min_seconds: float = 0.0) -> Tuple[str, float, int, float, float]:
    """`orders` orders from `concurrency` clients, `fault` 0.5 s in; more rounds of `concurrency`
    orders while the phase is shorter than `min_seconds`."""
    before = len(client.latencies)
    created_before = client.outcomes.get("created", 0)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(client.order, random.randrange(10**6), sku) for _ in range(orders)]
        if fault is not None:
            time.sleep(0.5)
            fault()
        for f in futures:
            f.result()
        while time.perf_counter() - started < min_seconds:
            for f in [pool.submit(client.order, random.randrange(10**6), sku) for _ in range(concurrency)]:
                f.result()
    elapsed = time.perf_counter() - started
    lat = client.latencies[before:]
    created = client.outcomes.get("created", 0) - created_before
    return name, elapsed, created, percentile(lat, 50) * 1000, percentile(lat, 99) * 1000


def settle(orders_url: str, inventory_url: str, bound: float) -> bool:
    """Wait until no hold is open and no order is incomplete (the sweepers' job)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        with psycopg.connect(inventory_url) as inv, psycopg.connect(orders_url) as orders:
            held = inv.execute("SELECT count(*) FROM reservations WHERE state = 'held'").fetchone()[0]
            incomplete = orders.execute("SELECT count(*) FROM orders WHERE stock_state = 'reserved'").fetchone()[0]
        if held == 0 and incomplete == 0:
            return True
        time.sleep(0.5)
    return False


def verdict(orders_url: str, inventory_url: str, client: Client) -> List[str]:
    problems: List[str] = []
    stored_total = 0
    for sku in SKUS:
        stored_total += check_sku(orders_url, inventory_url, client, sku, problems)
    if client.outcomes.get("DIFFERENT ORDER FOR ONE KEY"):
        problems.append("duplicate order: a retry got a different order")
    if stored_total != len(client.created):
        problems.append(f"duplicate order: {stored_total} orders stored, clients were told of {len(client.created)}")
    return problems


def check_sku(orders_url: str, inventory_url: str, client: Client, sku: str, problems: List[str]) -> int:
    with psycopg.connect(inventory_url) as inv, psycopg.connect(orders_url) as orders:
        available, reserved, committed = inv.execute(
            "SELECT available, reserved, committed FROM stock WHERE sku = %s", (sku,)).fetchone()
        confirmed = dict(inv.execute(
            "SELECT id, quantity FROM reservations WHERE sku = %s AND state = 'confirmed'", (sku,)).fetchall())
        held = inv.execute("SELECT count(*) FROM reservations WHERE state = 'held'").fetchone()[0]
        rows = orders.execute(
            "SELECT id, reservation_id, quantity, stock_state, idempotency_key FROM orders WHERE sku = %s", (sku,)
        ).fetchall()
    if available < 0 or available + reserved + committed != STOCK:
        problems.append(f"oversell: available {available} + reserved {reserved} + committed {committed} != {STOCK}")
    if sum(confirmed.values()) != committed:
        problems.append(f"oversell: confirmed reservations hold {sum(confirmed.values())}, committed is {committed}")
    visible = [r for r in rows if r[3] == "confirmed"]
    if any(r[3] == "reserved" for r in rows) or held:
        problems.append(f"orphan: {held} holds and {sum(r[3] == 'reserved' for r in rows)} incomplete orders left")
    by_reservation: Dict[uuid.UUID, int] = {}
    for r in visible:
        by_reservation[r[1]] = by_reservation.get(r[1], 0) + 1
        if confirmed.get(r[1]) != r[2]:
            problems.append(f"orphan: order {r[0]} has no confirmed reservation of its quantity")
    orphans = set(confirmed) - set(by_reservation)
    if orphans:
        problems.append(f"orphan reservation: {len(orphans)} confirmed reservations without an order")
    if any(n > 1 for n in by_reservation.values()):
        problems.append("duplicate order: one reservation backs several orders")
    keys = [r[4] for r in rows]
    if len(keys) != len(set(keys)):
        problems.append("duplicate order: one Idempotency-Key has several orders")
    for key, order_id in ((r[4], str(r[0])) for r in visible):
        if client.created.get(key) != order_id:
            problems.append(f"duplicate order: order {order_id} was never confirmed to a client")
            break
    return len(visible)


class Rotation:
    """The services' database roles, rotated together (multi user) by `fault()`; `check()` after the phase."""

    def __init__(self, admin_url: str, urls: Dict[str, str], root: Path) -> None:
        self.roles = {name: RotatingRole(admin_url, conninfo_to_dict(url)["user"], url, root / name)
                      for name, url in urls.items()}
        self.rotated_at = None

    def fault(self) -> None:
        previous = {name: role.rotate_user() for name, role in self.roles.items()}
        # Every connection opened from now on must use the new user.
        self.rotated_at = next(iter(self.roles.values())).now()
        time.sleep(ROTATION_OVERLAP_SECONDS)
        for name, role in self.roles.items():
            role.invalidate(previous[name])

    def check(self, services: List["Service"], phase_outcomes: Dict[str, int]) -> List[str]:
        problems = []
        failed = 0
        for s in services:
            try:
                text = httpx.get(f"http://127.0.0.1:{s.port}/metrics", timeout=5).text
            except httpx.TransportError:
                problems.append(f"credential rotation: no metrics from {s.name}")
                continue
            counts = [float(line.split()[-1]) for line in text.splitlines()
                      if line.startswith('db_auth_failures_total{outcome="failed"}')]
            if not counts:
                problems.append(f"credential rotation: {s.name} does not read the credential files")
            failed += sum(counts)
        if failed:
            problems.append(f"credential rotation: {failed:.0f} connections failed authentication after a re-read")
        auth_errors = [k for k in phase_outcomes if k != "created" and k != "sold out (409)"]
        if failed and auth_errors:
            problems.append(f"credential rotation: requests failed meanwhile: {', '.join(auth_errors)}")
        for name, role in self.roles.items():
            app = f"{name}-api"
            opened = [x for x in role.sessions(app) if self.rotated_at and x["backend_start"] > self.rotated_at]
            if not opened:
                problems.append(f"credential rotation: {app} opened no connection after the rotation")
            elif {x["user"] for x in opened} != {role.user}:
                problems.append(f"credential rotation: {app} connected as {sorted({x['user'] for x in opened})}, "
                                f"not {role.user}, after the rotation")
        return problems

    def close(self) -> None:
        for role in self.roles.values():
            role.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders-per-phase", type=int, default=250)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--time-bound", type=float, default=180.0, help="seconds for the whole run")
    args = parser.parse_args()
    started = time.monotonic()
    orders_db, inventory_db = os.environ["ORDERS_DATABASE_URL"], os.environ["INVENTORY_DATABASE_URL"]
    restart_db = os.environ["LOADTEST_DB_RESTART"]
    rotation = Rotation(os.environ["ROTATION_ADMIN_URL"], {"orders": orders_db, "inventory": inventory_db},
                        Path(os.environ["LOADTEST_CREDENTIALS_ROOT"]))

    with psycopg.connect(inventory_db, autocommit=True) as conn:
        conn.execute("TRUNCATE reservations, stock")
        for sku in SKUS:
            conn.execute("INSERT INTO stock (sku, available) VALUES (%s, %s)", (sku, STOCK))
    with psycopg.connect(orders_db, autocommit=True) as conn:
        conn.execute("TRUNCATE orders")
    common = {"JWT_SECRET": SECRET, "LOG_LEVEL": "WARNING", "SWEEP_INTERVAL_SECONDS": "1", "DB_POOL_MAX_SIZE": "8",
              "DB_POOL_MAX_LIFETIME_SECONDS": str(POOL_MAX_LIFETIME_SECONDS)}

    def database(name: str) -> Dict[str, str]:
        # What FxMicroservice gives a pod: the env var of pod start and the mounted files.
        role = rotation.roles[name]
        return {"DATABASE_URL": role.url, "FX_DATABASE_CREDENTIALS_DIR": str(role.dir.root)}

    inventory = [Service(f"inventory-{i}", "inventory_api.app", SERVICES / "inventory-api",
                         {**common, **database("inventory"), "RESERVATION_TTL_SECONDS": "8"}) for i in range(2)]
    for s in inventory:
        s.start()
    proxy = Proxy([s.port for s in inventory])
    orders = [Service(f"orders-{i}", "orders_api.app", SERVICES / "orders-api",
                      {**common, **database("orders"), "INVENTORY_URL": f"http://127.0.0.1:{proxy.port}",
                       "INCOMPLETE_ORDER_TIMEOUT_SECONDS": "3"}) for i in range(2)]
    try:
        for s in orders:
            s.start()
        client = Client([f"http://127.0.0.1:{s.port}" for s in orders], started + args.time_bound)

        def restart_replicas() -> None:
            inventory[0].kill()
            orders[1].kill()
            time.sleep(1.0)
            inventory[0].start()
            orders[1].start()

        def restart_database() -> None:
            subprocess.run(["bash", restart_db], check=True, timeout=60)

        def stall() -> None:
            proxy.stall_until = time.monotonic() + STALL_SECONDS

        n, c = args.orders_per_phase, args.concurrency
        faults = [None, restart_replicas, restart_database, stall, rotation.fault]
        # The rotation phase has fewer orders, but lasts until the pools have renewed their connections.
        sizes = [n, n, n, n, max(40, n * 2 // 5)]
        min_seconds = [0.0, 0.0, 0.0, 0.0, ROTATION_PHASE_MIN_SECONDS]
        phases = []
        for name, sku, fault, size, least in zip(PHASES, SKUS, faults, sizes, min_seconds):
            outcomes_before = dict(client.outcomes)
            phases.append(run_phase(name, sku, client, size, c, fault, least))
            phase_outcomes = {k: v - outcomes_before.get(k, 0) for k, v in client.outcomes.items()
                              if v != outcomes_before.get(k, 0)}
        rotation_problems = rotation.check(orders + inventory, phase_outcomes)
        settled = settle(orders_db, inventory_db, max(10.0, args.time_bound - (time.monotonic() - started)))
        problems = verdict(orders_db, inventory_db, client) + rotation_problems
        if not settled:
            problems.append("holds or incomplete orders did not settle within the time bound")
    finally:
        for s in orders + inventory:
            s.stop()
        rotation.close()

    print(f"loadtest: 2 orders-api + 2 inventory-api replicas, {STOCK} units per phase's SKU, "
          f"{args.concurrency} concurrent clients, {client.requests} requests in {time.monotonic() - started:.1f} s")
    print(f"{'phase':<20} {'seconds':>8} {'created':>8} {'orders/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, elapsed, created, p50, p99 in phases:
        print(f"{name:<20} {elapsed:8.2f} {created:8d} {created / elapsed:9.1f} {p50:8.1f} {p99:8.1f}")
    print("outcomes: " + json.dumps(dict(sorted(client.outcomes.items()))))
    print("credential rotation outcomes: " + json.dumps(dict(sorted(phase_outcomes.items()))))
    with psycopg.connect(inventory_db) as inv:
        for row in inv.execute("SELECT sku, available, reserved, committed FROM stock ORDER BY sku").fetchall():
            print("stock %s: available=%d reserved=%d committed=%d" % row)
    if time.monotonic() - started > args.time_bound + 30:
        print("integrity: UNKNOWN (time bound exceeded)")
        return 2
    if problems:
        print("integrity: FAILED")
        for p in problems:
            print(f"  - {p}")
        return 1
    print("integrity: OK (no oversell, no orphan reservation, no duplicate order, no request failed by a rotation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
