"""Many threads competing for the last units never oversell them.

The store's lock makes every check-and-decrement atomic. A very short thread
switch interval makes the interpreter swap threads between the check and the
write of an unlocked version too: with the lock removed these tests fail on
every run.
"""

import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import bearer, make_token, stock
from inventory_api.store import InsufficientStock, InventoryStore

THREADS = 16


@pytest.fixture
def frequent_thread_switches():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


@pytest.mark.parametrize("round_", range(10))
def test_store_never_oversells_under_contention(frequent_thread_switches, round_):
    units, attempts_per_thread = 50, 40
    store = InventoryStore({"LAST-1": units})
    start = threading.Barrier(THREADS)
    won, lost = Counter(), Counter()

    def worker(n: int) -> None:
        start.wait()
        for _ in range(attempts_per_thread):
            try:
                store.reserve("LAST-1", 1, created_by=f"t{n}")
            except InsufficientStock:
                lost[n] += 1
            else:
                won[n] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(won.values()) == units
    assert sum(lost.values()) == THREADS * attempts_per_thread - units
    level = store.level("LAST-1")
    assert (level.available, level.reserved) == (0, units)
    assert store.reservation_count() == units


@pytest.mark.parametrize("round_", range(3))
def test_store_keeps_its_totals_under_mixed_reserve_and_release(frequent_thread_switches, round_):
    total = 30
    store = InventoryStore({"MIX-1": total})
    start = threading.Barrier(THREADS)
    errors = []

    def worker() -> None:
        start.wait()
        held = []
        for i in range(300):
            try:
                held.append(store.reserve("MIX-1", 1 + i % 3, created_by="t"))
            except InsufficientStock:
                pass
            if len(held) > 2:
                store.release(held.pop(0).id)
            level = store.level("MIX-1")
            if level.available < 0 or level.available + level.reserved != total:
                errors.append(level)
        for hold in held:
            assert store.release(hold.id) is not None

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(worker) for _ in range(THREADS)]:
            future.result()

    assert errors == []
    level = store.level("MIX-1")
    assert (level.available, level.reserved) == (total, 0)
    assert store.reservation_count() == 0


def test_http_reservations_of_the_last_units_never_oversell(app_factory, frequent_thread_switches):
    """The same race through the API: sync endpoints run in FastAPI's thread pool."""
    units, requests = 20, 200
    client = app_factory(seed={"LAST-1": units, "OTHER-1": 100})
    start = threading.Barrier(THREADS)

    def attempt(i: int) -> int:
        if i < THREADS:
            start.wait()
        headers = bearer(make_token(sub=f"caller-{i}"))
        return client.post("/inventory/LAST-1/reservations", json={"quantity": 1}, headers=headers).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = Counter(pool.map(attempt, range(requests)))

    assert statuses == {201: units, 409: requests - units}
    assert stock(client, "LAST-1") == {"sku": "LAST-1", "available": 0, "reserved": units}
    assert stock(client, "OTHER-1") == {"sku": "OTHER-1", "available": 100, "reserved": 0}
