-- Stock per SKU and the reservations held against it; shared by every replica.
-- available + reserved + committed per SKU changes only by seeding or restocking:
-- a reservation moves units available -> reserved, a confirmation reserved ->
-- committed, a release or an expiry back to available.
CREATE TABLE stock (
    sku        text        PRIMARY KEY CHECK (sku ~ '^[A-Z0-9]{2,16}(-[A-Z0-9]{1,16}){0,4}$'),
    available  integer     NOT NULL CHECK (available >= 0),
    reserved   integer     NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    committed  integer     NOT NULL DEFAULT 0 CHECK (committed >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservations (
    id              uuid        PRIMARY KEY,
    sku             text        NOT NULL REFERENCES stock (sku),
    quantity        integer     NOT NULL CHECK (quantity > 0 AND quantity <= 10000),
    state           text        NOT NULL DEFAULT 'held'
                                CHECK (state IN ('held', 'confirmed', 'released', 'expired')),
    created_by      text        NOT NULL,
    idempotency_key text        NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 128),
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- A retried reservation (same caller, same key) finds the first one.
    CONSTRAINT reservations_idempotency_key UNIQUE (created_by, idempotency_key)
);

-- The sweeper's query: held reservations by expiry.
CREATE INDEX reservations_held_expiry_idx ON reservations (expires_at) WHERE state = 'held';
