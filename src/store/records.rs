//! The rows the store reads and writes, as typed values.

use chrono::{DateTime, NaiveDate, Utc};

use crate::booking::calendar::Override;
use crate::booking::model::{Action, Channel, ChildCode, ChildId, PayerCode, PayerId, ServiceCode};

/// A payer (family account), without its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payer {
    /// Database id.
    pub id: PayerId,
    /// Full name, e.g. "Laurence MARSONE".
    pub name: String,
    /// E-mail address (may be empty).
    pub email: String,
    /// "Me prévenir par mail de la mise en ligne de ma facture".
    pub invoice_email_opt_in: bool,
}

/// A payer to create.
#[derive(Debug, Clone)]
pub struct NewPayer {
    /// The secret payer code (unique).
    pub code: PayerCode,
    /// Full name.
    pub name: String,
    /// E-mail address (may be empty).
    pub email: String,
    /// E-mail opt-in for new invoices.
    pub invoice_email_opt_in: bool,
}

/// A child, without its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// Database id.
    pub id: ChildId,
    /// The payer the child belongs to.
    pub payer: PayerId,
    /// First name, e.g. "Angéline".
    pub first_name: String,
    /// Last name, e.g. "MARSONE".
    pub last_name: String,
    /// School, e.g. "École Jules Ferry".
    pub school: String,
    /// Class, e.g. "CE1".
    pub class_label: String,
    /// Teacher, e.g. "Mme Formatrice".
    pub teacher: String,
}

impl Child {
    /// "Angéline MARSONE".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// "CE1 - Mme Formatrice" (or only the part that is known).
    pub fn class_line(&self) -> String {
        match (self.class_label.is_empty(), self.teacher.is_empty()) {
            (false, false) => format!("{} - {}", self.class_label, self.teacher),
            (false, true) => self.class_label.clone(),
            (true, false) => self.teacher.clone(),
            (true, true) => String::new(),
        }
    }
}

/// A child to create.
#[derive(Debug, Clone)]
pub struct NewChild {
    /// The secret child code (unique).
    pub code: ChildCode,
    /// Its payer.
    pub payer: PayerId,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// School.
    pub school: String,
    /// Class label ("CE1").
    pub class_label: String,
    /// Teacher ("Mme Formatrice").
    pub teacher: String,
}

/// One recorded change of a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Inscription or annulation.
    pub action: Action,
    /// The day of the service.
    pub date: NaiveDate,
    /// The service.
    pub service: ServiceCode,
    /// Web, phone or staff.
    pub channel: Channel,
    /// Who did it (e.g. "parent", "téléphone", a staff login).
    pub actor: String,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// A day the town hall's office is closed (a "pont").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    /// The closed day.
    pub date: NaiveDate,
    /// Why, e.g. "Pont de l'Ascension".
    pub label: String,
}

/// Database id of an override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OverrideId(pub i64);

/// A stored staff override of one date's deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOverride {
    /// Its id (to remove it).
    pub id: OverrideId,
    /// What it says.
    pub rule: Override,
}

/// How many children are booked for one school and service on a date (for kitchens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadCount {
    /// The school.
    pub school: String,
    /// The service.
    pub service: ServiceCode,
    /// Number of bookings.
    pub count: i64,
}

/// The failed-login counter of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginCounter {
    /// Failures counted in the current window.
    pub failures: i64,
    /// The last failure.
    pub last_at: DateTime<Utc>,
    /// Refused until then, if set.
    pub locked_until: Option<DateTime<Utc>>,
}
