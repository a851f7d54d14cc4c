//! Payers and children.

use sqlx::Row;

use super::{Child, NewChild, NewPayer, Payer, Store, StoreError, StoreTx, on_pool, on_tx};
use crate::booking::model::{ChildCode, ChildId, PayerCode, PayerId};

const CHILD_COLUMNS: &str = "id, payer_id, first_name, last_name, school, class_label, teacher";

macro_rules! child_from_row {
    ($row:expr) => {{
        let row = $row;
        Child {
            id: ChildId(row.try_get("id")?),
            payer: PayerId(row.try_get("payer_id")?),
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            school: row.try_get("school")?,
            class_label: row.try_get("class_label")?,
            teacher: row.try_get("teacher")?,
        }
    }};
}

impl Store {
    /// The (payer, child) whose codes are this pair, if any. One query for both codes, so
    /// an unknown child and a wrong payer cost the same and look the same.
    pub async fn find_login(
        &self,
        child: &ChildCode,
        payer: &PayerCode,
    ) -> Result<Option<(PayerId, ChildId)>, StoreError> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT c.payer_id, c.id FROM children c JOIN payers p ON p.id = c.payer_id \
                 WHERE c.code = $1 AND p.code = $2",
            )
            .bind(child.expose())
            .bind(payer.expose())
            .fetch_optional(p)
            .await?;
            match row {
                Some(row) => Ok(Some((PayerId(row.try_get(0)?), ChildId(row.try_get(1)?)))),
                None => Ok(None),
            }
        })
    }

    /// A payer by id.
    pub async fn payer(&self, id: PayerId) -> Result<Option<Payer>, StoreError> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT id, name, email, invoice_email_opt_in FROM payers WHERE id = $1",
            )
            .bind(id.0)
            .fetch_optional(p)
            .await?;
            match row {
                Some(row) => Ok(Some(Payer {
                    id: PayerId(row.try_get("id")?),
                    name: row.try_get("name")?,
                    email: row.try_get("email")?,
                    invoice_email_opt_in: row.try_get("invoice_email_opt_in")?,
                })),
                None => Ok(None),
            }
        })
    }

    /// The children of a payer, by first name.
    pub async fn children_of(&self, payer: PayerId) -> Result<Vec<Child>, StoreError> {
        on_pool!(self, p => {
            let rows = sqlx::query(&format!(
                "SELECT {CHILD_COLUMNS} FROM children WHERE payer_id = $1 \
                 ORDER BY first_name, last_name, id"
            ))
            .bind(payer.0)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(child_from_row!(&row));
            }
            Ok(out)
        })
    }

    /// A child by id, whoever its payer.
    pub async fn child(&self, id: ChildId) -> Result<Option<Child>, StoreError> {
        on_pool!(self, p => {
            let row = sqlx::query(&format!("SELECT {CHILD_COLUMNS} FROM children WHERE id = $1"))
                .bind(id.0)
                .fetch_optional(p)
                .await?;
            match row {
                Some(row) => Ok(Some(child_from_row!(&row))),
                None => Ok(None),
            }
        })
    }

    /// Number of payers and of children (for operators' summaries).
    pub async fn family_counts(&self) -> Result<(i64, i64), StoreError> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM payers) AS payers, \
                        (SELECT COUNT(*) FROM children) AS children",
            )
            .fetch_one(p)
            .await?;
            Ok((row.try_get("payers")?, row.try_get("children")?))
        })
    }

    /// Sets a payer's e-mail opt-in for new invoices.
    pub async fn set_invoice_email_opt_in(
        &self,
        payer: PayerId,
        opt_in: bool,
    ) -> Result<(), StoreError> {
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE payers SET invoice_email_opt_in = $1 WHERE id = $2",
        )
        .bind(opt_in)
        .bind(payer.0)
        .execute(p)
        .await?
        .rows_affected());
        if done == 0 {
            return Err(StoreError::NotFound {
                what: "le payeur".into(),
            });
        }
        Ok(())
    }
}

impl StoreTx {
    /// Creates a payer; a code already used is [`StoreError::Duplicate`].
    pub async fn insert_payer(&mut self, payer: &NewPayer) -> Result<PayerId, StoreError> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO payers (code, name, email, invoice_email_opt_in) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(payer.code.expose())
        .bind(&payer.name)
        .bind(&payer.email)
        .bind(payer.invoice_email_opt_in)
        .fetch_one(&mut **c)
        .await
        .map_err(|e| StoreError::duplicate_as(e, || "ce code payeur".into()))?);
        Ok(PayerId(id))
    }

    /// Creates a child; a code already used is [`StoreError::Duplicate`].
    pub async fn insert_child(&mut self, child: &NewChild) -> Result<ChildId, StoreError> {
        self.insert_child_row(child, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("INSERT … RETURNING gave no row".into()))
    }

    /// Creates the child unless its code is taken: `None` then, and nothing written. The
    /// UNIQUE code decides (`ON CONFLICT DO NOTHING`, so the transaction stays usable on
    /// PostgreSQL, where an error would abort it), and the caller draws another code.
    pub async fn insert_child_if_code_free(
        &mut self,
        child: &NewChild,
    ) -> Result<Option<ChildId>, StoreError> {
        self.insert_child_row(child, true).await
    }

    /// The one INSERT of a child: a taken code is skipped (`None`) or an error.
    async fn insert_child_row(
        &mut self,
        child: &NewChild,
        skip_taken_code: bool,
    ) -> Result<Option<ChildId>, StoreError> {
        let sql = if skip_taken_code {
            "INSERT INTO children \
             (code, payer_id, first_name, last_name, school, class_label, teacher) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING RETURNING id"
        } else {
            "INSERT INTO children \
             (code, payer_id, first_name, last_name, school, class_label, teacher) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
        };
        let id: Option<i64> = on_tx!(self, c => sqlx::query_scalar(sql)
            .bind(child.code.expose())
            .bind(child.payer.0)
            .bind(&child.first_name)
            .bind(&child.last_name)
            .bind(&child.school)
            .bind(&child.class_label)
            .bind(&child.teacher)
            .fetch_optional(&mut **c)
            .await
            .map_err(|e| StoreError::duplicate_as(e, || "ce code enfant".into()))?);
        Ok(id.map(ChildId))
    }

    /// The id of the payer with this code, if any.
    pub async fn payer_id_by_code(
        &mut self,
        code: &PayerCode,
    ) -> Result<Option<PayerId>, StoreError> {
        let id: Option<i64> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT id FROM payers WHERE code = $1",
        )
        .bind(code.expose())
        .fetch_optional(&mut **c)
        .await?);
        Ok(id.map(PayerId))
    }

    /// The id of the child with this code, if any.
    pub async fn child_id_by_code(
        &mut self,
        code: &ChildCode,
    ) -> Result<Option<ChildId>, StoreError> {
        let id: Option<i64> = on_tx!(self, c => sqlx::query_scalar(
            "SELECT id FROM children WHERE code = $1",
        )
        .bind(code.expose())
        .fetch_optional(&mut **c)
        .await?);
        Ok(id.map(ChildId))
    }
}
