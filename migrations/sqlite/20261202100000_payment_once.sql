-- One payment per invoice, one payment in progress per invoice, and the duplicates staff
-- must refund (SQLite). Keep the same tables and columns as the PostgreSQL migration.

-- The payment that settled each invoice: the primary key makes "paid once" a constraint,
-- whatever the code above it does.
CREATE TABLE invoice_payments (
    invoice_id INTEGER PRIMARY KEY REFERENCES invoices(id),
    payment_id INTEGER NOT NULL REFERENCES payments(id)
);

-- The request an invoice is being paid by, until it ends (failure) or expires: a second
-- request for the invoice meanwhile is refused.
CREATE TABLE invoice_claims (
    invoice_id INTEGER PRIMARY KEY REFERENCES invoices(id),
    request_id INTEGER NOT NULL REFERENCES payment_requests(id),
    expires_at TEXT NOT NULL
);

-- A payment a provider confirmed for invoices another payment had already settled: kept
-- for staff to refund, never applied twice.
CREATE TABLE duplicate_payments (
    payment_id INTEGER PRIMARY KEY REFERENCES payments(id),
    detected_at TEXT NOT NULL,
    refunded_at TEXT NULL
);

-- Invoices paid before this migration keep their first paid payment.
INSERT INTO invoice_payments (invoice_id, payment_id)
SELECT pri.invoice_id, MIN(p.id)
FROM payments p JOIN payment_request_invoices pri ON pri.request_id = p.request_id
JOIN invoices i ON i.id = pri.invoice_id
WHERE p.outcome = 'paid' AND i.paid_at IS NOT NULL
GROUP BY pri.invoice_id;

CREATE INDEX payment_requests_by_id_op ON payment_requests(id_op);
