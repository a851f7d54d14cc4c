//! The notice "votre facture est en ligne": what it says, built once per invoice and payer.

use chrono::NaiveDate;

use super::MailError;
use crate::booking::model::Cents;
use crate::invoice::InvoiceNumber;

/// One e-mail to send, as the outbox row will hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// A unique key (the outbox row, e.g. `invoice-2014-003-000162`): letters, digits, `-`,
    /// `_`, `.`; it names the Message-ID and the `.eml` file, so a repeat is recognisable.
    pub key: String,
    /// The payer's name.
    pub to_name: String,
    /// The payer's address.
    pub to_address: String,
    /// The invoice.
    pub invoice_number: InvoiceNumber,
    /// "novembre 2014".
    pub period: String,
    /// The invoice's total.
    pub amount: Cents,
    /// The due date.
    pub due: NaiveDate,
    /// The portal's address, where the invoice is shown and paid.
    pub portal_url: String,
    /// The town's name, to sign the message.
    pub town_name: String,
}

impl Notice {
    /// Checks the key's format (it becomes a file name and part of a Message-ID).
    pub fn check_key(&self) -> Result<(), MailError> {
        let ok = !self.key.is_empty()
            && self.key.len() <= 100
            && !self.key.starts_with('.')
            && self
                .key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(())
        } else {
            Err(MailError::BadNotice(format!("clé « {} »", self.key)))
        }
    }

    /// The subject line.
    pub fn subject(&self) -> String {
        format!("Votre facture {} est en ligne", self.invoice_number)
    }

    /// The plain-text body (no codes, no secrets: just where to look).
    pub fn body(&self) -> String {
        format!(
            "Bonjour {name},\n\n\
             Votre facture n° {number} ({period}), d'un montant de {amount}, est en ligne sur le \
             portail des familles.\n\
             Date d'échéance : {due}.\n\n\
             Vous pouvez la consulter et la régler en ligne à l'adresse suivante :\n{url}\n\n\
             Vous recevez ce message car vous avez demandé à être prévenu(e) de la mise en ligne \
             de vos factures. Pour ne plus le recevoir, décochez « Me prévenir par mail de la mise \
             en ligne de ma facture » sur le portail.\n\n\
             {town}\n",
            name = self.to_name,
            number = self.invoice_number,
            period = self.period,
            amount = self.amount,
            due = self.due.format("%d/%m/%Y"),
            url = self.portal_url,
            town = self.town_name,
        )
    }
}
