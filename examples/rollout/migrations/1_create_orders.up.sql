CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    total_cents bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
