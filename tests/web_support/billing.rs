//! Invoices for the web tests: April 2026 meals booked, the month invoiced, and a portal
//! served for real on 127.0.0.1:0 with invoice and payment settings, so that the payment
//! stand-ins can send the browser back to it and notify it.

use std::net::SocketAddr;

use chrono::NaiveDate;
use ivr::booking::model::{ChildId, PayerId, ServiceCode};
use ivr::invoice::InvoiceConfig;
use ivr::invoice::generate::InvoiceMonth;
use ivr::payment::payfip::PayFipConfig;
use ivr::payment::systempay::SystemPay;
use ivr::service::invoices::generate_month;
use ivr::store::testing::TestDb;
use ivr::store::{Store, StoredInvoice};
use ivr::web::{Invoicing, WebConfig};

use super::{Portal, default_now};

/// Invoice settings read from `config` (the `[invoice]` TOML), with these payment
/// providers (none: no online payment).
pub fn invoicing(
    config: &str,
    systempay: Option<SystemPay>,
    payfip: Option<PayFipConfig>,
) -> Invoicing {
    Invoicing {
        invoice: toml::from_str::<InvoiceConfig>(config).expect("invoice config"),
        systempay,
        payfip,
    }
}

/// Books the meal (REPAS) for `child` on these days of April 2026, straight in the store.
pub async fn book_april_meals(store: &Store, child: ChildId, days: &[u32]) {
    let mut tx = store.begin().await.unwrap();
    for d in days {
        let date = NaiveDate::from_ymd_opt(2026, 4, *d).unwrap();
        tx.insert_booking(
            child,
            date,
            &ServiceCode::parse("REPAS").unwrap(),
            default_now(),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

impl Portal {
    /// Makes April 2026's invoices with the portal's invoice settings, issued Saturday
    /// 2 May, as the staff's button does.
    pub async fn invoice_april(&self) {
        generate_month(
            &self.db.store,
            &self.state.invoicing().invoice,
            InvoiceMonth::parse("2026-04").unwrap(),
            NaiveDate::from_ymd_opt(2026, 5, 2).unwrap(),
            default_now(),
        )
        .await
        .expect("invoices generated");
    }

    /// The first invoice of `payer`.
    pub async fn first_invoice_of(&self, payer: PayerId) -> StoredInvoice {
        self.db
            .store
            .invoices_of(payer)
            .await
            .expect("invoices")
            .into_iter()
            .next()
            .expect("an invoice")
    }

    /// A portal on `db` with `invoicing`, served for real on 127.0.0.1:0 with that address
    /// as its public one; returns it and the address.
    pub async fn served(db: TestDb, invoicing: Invoicing) -> (Portal, SocketAddr) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let web = WebConfig {
            public_base_url: format!("http://{addr}"),
            ..Default::default()
        };
        let portal = Portal::on(db, web, invoicing).await;
        tokio::spawn(ivr::web::serve(listener, portal.state.clone()));
        (portal, addr)
    }

    /// [`Portal::served`], with Angéline's meals on these `days` of April booked and
    /// invoiced; returns her family's invoice too.
    pub async fn served_with_an_invoice(
        db: TestDb,
        invoicing: Invoicing,
        days: &[u32],
    ) -> (Portal, SocketAddr, StoredInvoice) {
        let (portal, addr) = Portal::served(db, invoicing).await;
        book_april_meals(&portal.db.store, portal.fam.angeline, days).await;
        portal.invoice_april().await;
        let mine = portal.first_invoice_of(portal.fam.payer).await;
        (portal, addr, mine)
    }
}
