"""Two replicas (two apps on one database) and many threads competing for the
last units never oversell them: the guarded UPDATE on the SKU's row is the only
check-and-decrement. With the guard removed (`AND available >= ...`) or the
reservation inserted before the stock update without a lock, these tests fail.
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from conftest import DATABASE_URL, bearer, level, make_token, reserve, reset_stock, stock

THREADS = 16


def totals(sku: str):
    with psycopg.connect(DATABASE_URL) as conn:
        s = conn.execute("SELECT available, reserved, committed FROM stock WHERE sku = %s", (sku,)).fetchone()
        held = conn.execute(
            "SELECT coalesce(sum(quantity), 0) FROM reservations WHERE sku = %s AND state = 'held'", (sku,)
        ).fetchone()[0]
        sold = conn.execute(
            "SELECT coalesce(sum(quantity), 0) FROM reservations WHERE sku = %s AND state = 'confirmed'", (sku,)
        ).fetchone()[0]
    return s, held, sold


@pytest.mark.parametrize("round_", range(3))
def test_two_replicas_never_oversell_the_last_units(app_factory, round_):
    units, requests = 20, 160
    reset_stock(seed={"LAST-1": units, "OTHER-1": 100})
    replicas = [app_factory(), app_factory()]
    start = threading.Barrier(THREADS)

    def attempt(i: int) -> int:
        if i < THREADS:
            start.wait()
        return reserve(replicas[i % 2], bearer(make_token(sub=f"caller-{i % 3}")), sku="LAST-1").status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = Counter(pool.map(attempt, range(requests)))

    assert statuses == {201: units, 409: requests - units}
    assert stock(replicas[0], "LAST-1") == level("LAST-1", 0, units)
    assert stock(replicas[1], "OTHER-1") == level("OTHER-1", 100)
    assert totals("LAST-1") == ((0, units, 0), units, 0)


def test_mixed_reserve_confirm_release_keep_the_totals(app_factory):
    total = 30
    reset_stock(seed={"MIX-1": total})
    replicas = [app_factory(), app_factory()]
    auth = bearer(make_token())
    errors = []

    def worker(n: int) -> None:
        client = replicas[n % 2]
        for i in range(25):
            resp = reserve(client, auth, sku="MIX-1", quantity=1 + i % 3)
            if resp.status_code != 201:
                continue
            rid = resp.json()["id"]
            action = (n + i) % 3
            if action == 0:
                code = client.delete(f"/inventory/reservations/{rid}", headers=auth).status_code
            elif action == 1:
                code = client.post(f"/inventory/reservations/{rid}/confirm", headers=auth).status_code
            else:
                continue
            if code not in (200, 204):
                errors.append(code)

    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(worker, n) for n in range(8)]:
            future.result()

    assert errors == []
    (available, reserved, committed), held, sold = totals("MIX-1")
    assert available >= 0 and available + reserved + committed == total
    assert (reserved, committed) == (held, sold)


def test_concurrent_retries_with_one_key_make_one_hold(app_factory):
    replicas = [app_factory(), app_factory()]
    auth = bearer(make_token())
    start = threading.Barrier(8)

    def attempt(i: int):
        start.wait()
        resp = reserve(replicas[i % 2], auth, quantity=2, key="same-order")
        return resp.status_code, resp.json()["id"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert len({rid for _, rid in results}) == 1
    assert sorted(code for code, _ in results) == [200] * 7 + [201]
    assert stock(replicas[0], "WIDGET-42") == level("WIDGET-42", 8, 2)
