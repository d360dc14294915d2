-- Idempotent creation: a retried POST /orders with the same Idempotency-Key (per
-- caller) finds the first order; request_hash tells a replay from a key reused
-- for another body.
ALTER TABLE orders ADD COLUMN idempotency_key text CHECK (char_length(idempotency_key) BETWEEN 1 AND 128);
ALTER TABLE orders ADD COLUMN request_hash text;
CREATE UNIQUE INDEX orders_idempotency_key_idx ON orders (created_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Where the order's stock stands in inventory-api: 'reserved' (held, not yet
-- confirmed: the order is not complete and not visible), 'confirmed', 'released';
-- NULL without inventory.
ALTER TABLE orders ADD COLUMN stock_state text CHECK (stock_state IN ('reserved', 'confirmed', 'released'));
CREATE INDEX orders_incomplete_idx ON orders (created_at) WHERE stock_state = 'reserved';

-- Keyset paging, newest first: one index per list query shape, so no query sorts.
-- An owner sees their orders (optionally by status or customer); an admin all of them.
DROP INDEX orders_created_idx;
DROP INDEX orders_customer_created_idx;
DROP INDEX orders_status_idx;
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);
CREATE INDEX orders_status_created_idx ON orders (status, created_at DESC, id DESC);
CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_owner_created_idx ON orders (created_by, created_at DESC, id DESC);
CREATE INDEX orders_owner_status_created_idx ON orders (created_by, status, created_at DESC, id DESC);
CREATE INDEX orders_owner_customer_created_idx ON orders (created_by, customer_id, created_at DESC, id DESC);
