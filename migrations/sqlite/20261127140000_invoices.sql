-- Invoices, payments and the e-mail outbox (SQLite). Keep the same tables, columns,
-- constraints and meaning as migrations/postgres/20261127140000_invoices.sql.

-- The family's income bracket ("quotient familial"); NULL = not known, full price.
ALTER TABLE payers ADD COLUMN quotient_familial INTEGER NULL CHECK (quotient_familial >= 0);

-- The last sequence number given per (year, régie). The generating transaction updates
-- this row first, which serialises two runs and makes numbers gapless and unique.
CREATE TABLE invoice_sequences (
    year INTEGER NOT NULL,
    regie INTEGER NOT NULL,
    last_value INTEGER NOT NULL CHECK (last_value >= 0),
    PRIMARY KEY (year, regie)
);

-- One invoice per payer, month and régie: running the generation twice creates nothing.
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    year INTEGER NOT NULL,
    regie INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    payer_id INTEGER NOT NULL REFERENCES payers(id),
    month TEXT NOT NULL,
    label TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    total_cents INTEGER NOT NULL CHECK (total_cents > 0),
    paid_at TEXT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (payer_id, month, regie),
    UNIQUE (year, regie, sequence)
);
CREATE INDEX invoices_by_payer ON invoices(payer_id, month);

CREATE TABLE invoice_lines (
    id INTEGER PRIMARY KEY,
    invoice_id INTEGER NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    child_id INTEGER NOT NULL,
    child_name TEXT NOT NULL,
    service TEXT NOT NULL,
    label TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    UNIQUE (invoice_id, position)
);

-- What was asked of a payment provider: the invoices, the amount, and the provider's keys
-- (SystemPay: trans id and UTC day; PayFiP: idOp or refdet).
CREATE TABLE payment_requests (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL CHECK (provider IN ('systempay', 'payfip', 'payfip-ws')),
    order_id TEXT NOT NULL UNIQUE,
    payer_id INTEGER NOT NULL REFERENCES payers(id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    trans_id TEXT NULL,
    trans_day TEXT NULL,
    id_op TEXT NULL,
    refdet TEXT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (trans_day, trans_id)
);

CREATE TABLE payment_request_invoices (
    request_id INTEGER NOT NULL REFERENCES payment_requests(id) ON DELETE CASCADE,
    invoice_id INTEGER NOT NULL REFERENCES invoices(id),
    PRIMARY KEY (request_id, invoice_id)
);

-- What a provider told us, once per (provider, transaction): a repeat changes nothing.
CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL CHECK (provider IN ('systempay', 'payfip', 'payfip-ws')),
    transaction_ref TEXT NOT NULL,
    request_id INTEGER NOT NULL REFERENCES payment_requests(id),
    outcome TEXT NOT NULL,
    raw_status TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (provider, transaction_ref)
);

-- SystemPay's vads_trans_id: 6 digits unique per shop and UTC day.
CREATE TABLE systempay_trans_counters (
    site_id TEXT NOT NULL,
    day TEXT NOT NULL,
    next_value INTEGER NOT NULL,
    PRIMARY KEY (site_id, day)
);

-- E-mail notices to send, one per key; `sent_at` set once it went out. A worker claims a
-- row by moving `next_attempt_at` forward, so two workers do not send the same one.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    payer_id INTEGER NOT NULL REFERENCES payers(id),
    invoice_id INTEGER NOT NULL REFERENCES invoices(id),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT NULL,
    sent_at TEXT NULL,
    -- Set when the server refused the message for good: never tried again.
    gave_up_at TEXT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX mail_outbox_pending ON mail_outbox(sent_at, next_attempt_at);
