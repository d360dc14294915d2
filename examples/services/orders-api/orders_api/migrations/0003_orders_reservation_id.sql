-- The inventory-api reservation holding an order's stock (set when INVENTORY_URL
-- is configured). NULL for orders created without inventory, and once the
-- reservation has been released by cancelling the order.
ALTER TABLE orders ADD COLUMN reservation_id uuid;

COMMENT ON COLUMN orders.reservation_id IS 'inventory-api reservation id; NULL when none is held';
