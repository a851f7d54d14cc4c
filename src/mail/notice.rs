//! One e-mail to send, as the outbox row holds it: who it goes to and what it is about (an
//! invoice online, or a pre-registration decision, whose words are in [`super::prereg`]).

use chrono::NaiveDate;

use super::MailError;
use super::prereg::PreregNotice;
use crate::booking::model::Cents;
use crate::invoice::InvoiceNumber;

/// One e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// A unique key (the outbox row, e.g. `invoice-2014-003-000162`): letters, digits, `-`,
    /// `_`, `.`; it names the Message-ID and the `.eml` file, so a repeat is recognisable.
    pub key: String,
    /// The payer's name.
    pub to_name: String,
    /// The payer's address.
    pub to_address: String,
    /// The portal's address, where the family reads more.
    pub portal_url: String,
    /// The town's name, to sign the message.
    pub town_name: String,
    /// What the message is about.
    pub about: NoticeAbout,
}

/// What a notice is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeAbout {
    /// "Votre facture est en ligne", for payers who opted in.
    Invoice(InvoiceNotice),
    /// The staff's answer to a pre-registration request.
    Preregistration(PreregNotice),
}

/// The invoice a "votre facture est en ligne" notice announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceNotice {
    /// The invoice.
    pub number: InvoiceNumber,
    /// "novembre 2014".
    pub period: String,
    /// The invoice's total.
    pub amount: Cents,
    /// The due date.
    pub due: NaiveDate,
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
        match &self.about {
            NoticeAbout::Invoice(i) => format!("Votre facture {} est en ligne", i.number),
            NoticeAbout::Preregistration(p) => p.subject(),
        }
    }

    /// The plain-text body (no codes, no secrets: just where to look).
    pub fn body(&self) -> String {
        match &self.about {
            NoticeAbout::Invoice(i) => self.invoice_body(i),
            NoticeAbout::Preregistration(p) => {
                p.body(&self.to_name, &self.portal_url, &self.town_name)
            }
        }
    }

    fn invoice_body(&self, i: &InvoiceNotice) -> String {
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
            number = i.number,
            period = i.period,
            amount = i.amount,
            due = i.due.format("%d/%m/%Y"),
            url = self.portal_url,
            town = self.town_name,
        )
    }
}
