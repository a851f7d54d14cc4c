//! The handler tests' families, from the seed: Laurence MARSONE (payer code 770021) with
//! Angéline (child code 3011, CE1 – Mme Formatrice) and Théo (3012), plus another family
//! whose child must stay out of reach of the first. No bookings: each test makes its own.
//! (The browser test uses the real demo seed, `ivr::service::demo`.)

use ivr::booking::model::{ChildCode, ChildId, PayerCode, PayerId};
use ivr::store::{NewChild, NewPayer, Store, StoreError};

/// Ids of the demo's people.
#[derive(Debug, Clone, Copy)]
pub struct DemoFamilies {
    /// Laurence MARSONE (770021).
    pub payer: PayerId,
    /// Angéline MARSONE (3011).
    pub angeline: ChildId,
    /// Théo MARSONE (3012).
    pub theo: ChildId,
    /// Paul DURAND (880000), another family.
    pub other_payer: PayerId,
    /// Léa DURAND (4000), the other family's child.
    pub other_child: ChildId,
}

fn code<T>(r: Result<T, ivr::booking::model::BadCode>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Inserts the demo families in one transaction (fails with `Duplicate` if already there).
pub async fn seed(store: &Store) -> Result<DemoFamilies, StoreError> {
    let mut tx = store.begin().await?;
    let payer = tx
        .insert_payer(&NewPayer {
            code: code(PayerCode::parse("770021"))?,
            name: "Laurence MARSONE".into(),
            email: "laurence.marsone@example.org".into(),
            invoice_email_opt_in: false,
        })
        .await?;
    let child = |c: &str,
                 payer,
                 first: &str,
                 last: &str,
                 class: &str,
                 teacher: &str|
     -> Result<NewChild, StoreError> {
        Ok(NewChild {
            code: code(ChildCode::parse(c))?,
            payer,
            first_name: first.into(),
            last_name: last.into(),
            school: "École Jules Ferry".into(),
            class_label: class.into(),
            teacher: teacher.into(),
        })
    };
    let angeline = tx
        .insert_child(&child(
            "3011",
            payer,
            "Angéline",
            "MARSONE",
            "CE1",
            "Mme Formatrice",
        )?)
        .await?;
    let theo = tx
        .insert_child(&child(
            "3012",
            payer,
            "Théo",
            "MARSONE",
            "CP",
            "M. Lecteur",
        )?)
        .await?;
    let other_payer = tx
        .insert_payer(&NewPayer {
            code: code(PayerCode::parse("880000"))?,
            name: "Paul DURAND".into(),
            email: String::new(),
            invoice_email_opt_in: false,
        })
        .await?;
    let other_child = tx
        .insert_child(&child(
            "4000",
            other_payer,
            "Léa",
            "DURAND",
            "CM2",
            "Mme Calcul",
        )?)
        .await?;
    tx.commit().await?;
    Ok(DemoFamilies {
        payer,
        angeline,
        theo,
        other_payer,
        other_child,
    })
}
