-- Orders table. The CHECK constraints mirror the API's pydantic validation.
-- gen_random_uuid() is built in since PostgreSQL 13.
CREATE TABLE orders (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id text        NOT NULL CHECK (char_length(customer_id) BETWEEN 1 AND 64),
    sku         text        NOT NULL CHECK (sku ~ '^[A-Z0-9]{2,16}(-[A-Z0-9]{1,16}){0,4}$'),
    quantity    integer     NOT NULL CHECK (quantity > 0 AND quantity <= 10000),
    unit_price  numeric(12, 2) NOT NULL CHECK (unit_price > 0),
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status      text        NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled')),
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE orders IS 'Orders placed through orders-api';
