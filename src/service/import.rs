//! `ivr import families.csv`: payers and children of a real town, from a spreadsheet.
//!
//! # The file
//! UTF-8 (a byte-order mark is accepted), one child per line, a header line naming the
//! columns, separated by `;` (what French spreadsheets write) or `,` (guessed from the
//! header). Columns, in any order, all required:
//!
//! | column | meaning | example |
//! |---|---|---|
//! | `payer_code` | the payer's secret code, digits | `770021` |
//! | `payer_name` | the payer's full name | `Laurence MARSONE` |
//! | `email` | the payer's e-mail, may be empty | `laurence.marsone@example.org` |
//! | `child_code` | the child's secret code, digits, unique | `3011` |
//! | `first_name` | the child's first name | `Angéline` |
//! | `last_name` | the child's last name | `MARSONE` |
//! | `school` | the child's school | `École Jules Ferry` |
//! | `class` | the class | `CE1` |
//! | `teacher` | the teacher | `Mme Formatrice` |
//!
//! A payer with several children appears on several lines, with the same name and e-mail.
//! Spaces around values are ignored; fields with the separator are quoted (`"…"`).
//!
//! # Errors
//! Every error names the line (counting the header as line 1) and the column. The whole
//! file is checked first, then written in one transaction: a bad line, or a code already
//! in the file or in the database, aborts everything and nothing is half-imported.

use std::collections::HashMap;
use std::io::Read;

use thiserror::Error;

use crate::booking::model::{ChildCode, PayerCode};
use crate::store::{NewChild, NewPayer, Store, StoreError};

/// The columns of the families file, in the documented order.
pub const COLUMNS: [&str; 9] = [
    "payer_code",
    "payer_name",
    "email",
    "child_code",
    "first_name",
    "last_name",
    "school",
    "class",
    "teacher",
];

/// Why an import was refused; nothing was written.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("lecture du fichier impossible : {0}")]
    Read(String),
    /// The header line is wrong.
    #[error("ligne 1 (en-tête) : {0}")]
    Header(String),
    /// A line has the wrong number of fields or is not valid CSV.
    #[error("ligne {line} : {message}")]
    Line {
        /// 1-based line number.
        line: u64,
        /// What is wrong, in French.
        message: String,
    },
    /// A field's value is refused.
    #[error("ligne {line}, colonne {column} : {message}")]
    Field {
        /// 1-based line number.
        line: u64,
        /// The column's name.
        column: &'static str,
        /// What is wrong, in French.
        message: String,
    },
    /// The database refused the import (nothing was written).
    #[error("import annulé : {0}")]
    Store(#[from] StoreError),
}

/// What an import created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// Payers created.
    pub payers: usize,
    /// Children created.
    pub children: usize,
}

struct PayerLine {
    line: u64,
    payer: NewPayer,
}

struct ChildLine {
    line: u64,
    payer_code: PayerCode,
    child: NewChild,
}

/// Reads and checks the whole file, then writes it in one transaction.
pub async fn import_families(
    store: &Store,
    input: impl Read,
) -> Result<ImportSummary, ImportError> {
    let (payers, children) = parse(input)?;
    write(store, &payers, &children).await
}

/// Reads and checks the whole file without writing anything: the number of payers and of
/// children it holds, or the first error, naming its line and column.
pub fn check_families(input: impl Read) -> Result<(usize, usize), ImportError> {
    let (payers, children) = parse(input)?;
    Ok((payers.len(), children.len()))
}

fn parse(mut input: impl Read) -> Result<(Vec<PayerLine>, Vec<ChildLine>), ImportError> {
    let mut text = String::new();
    input
        .read_to_string(&mut text)
        .map_err(|e| ImportError::Read(e.to_string()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = if header_line.contains(';') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .has_headers(true)
        .from_reader(text.as_bytes());

    let headers = reader
        .headers()
        .map_err(|e| ImportError::Header(e.to_string()))?
        .clone();
    let mut index = [usize::MAX; COLUMNS.len()];
    for (pos, name) in headers.iter().enumerate() {
        let name = name.to_ascii_lowercase();
        let Some(col) = COLUMNS.iter().position(|c| *c == name) else {
            return Err(ImportError::Header(format!(
                "colonne inconnue « {name} » (colonnes attendues : {})",
                COLUMNS.join(";")
            )));
        };
        if index[col] != usize::MAX {
            return Err(ImportError::Header(format!("colonne « {name} » en double")));
        }
        index[col] = pos;
    }
    if let Some(missing) = COLUMNS.iter().zip(index).find(|(_, i)| *i == usize::MAX) {
        return Err(ImportError::Header(format!(
            "colonne « {} » manquante (colonnes attendues : {})",
            missing.0,
            COLUMNS.join(";")
        )));
    }

    let mut payers: Vec<PayerLine> = Vec::new();
    let mut payer_at: HashMap<String, usize> = HashMap::new();
    let mut children: Vec<ChildLine> = Vec::new();
    let mut child_line: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            let message = match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => {
                    format!("{len} champs au lieu de {expected_len}")
                }
                _ => "ligne illisible (guillemets ou encodage)".to_owned(),
            };
            ImportError::Line { line, message }
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let get = |col: usize| record.get(index[col]).unwrap_or("");
        let field = |col: usize, message: String| ImportError::Field {
            line,
            column: COLUMNS[col],
            message,
        };
        let required = |col: usize| {
            let v = get(col);
            if v.is_empty() {
                Err(field(col, "valeur obligatoire".into()))
            } else {
                Ok(v.to_owned())
            }
        };

        let payer_code = PayerCode::parse(get(0)).map_err(|e| field(0, e.to_string()))?;
        let payer_name = required(1)?;
        let email = get(2).to_owned();
        if !email.is_empty() && !is_plausible_email(&email) {
            return Err(field(2, "adresse e-mail invalide".into()));
        }
        let child_code = ChildCode::parse(get(3)).map_err(|e| field(3, e.to_string()))?;
        let first_name = required(4)?;
        let last_name = required(5)?;

        match payer_at.get(payer_code.expose()) {
            Some(&i) => {
                let known = &payers[i];
                if known.payer.name != payer_name {
                    return Err(field(
                        1,
                        format!(
                            "nom différent de celui de la ligne {} pour ce payeur",
                            known.line
                        ),
                    ));
                }
                if known.payer.email != email {
                    return Err(field(
                        2,
                        format!(
                            "e-mail différent de celui de la ligne {} pour ce payeur",
                            known.line
                        ),
                    ));
                }
            }
            None => {
                payer_at.insert(payer_code.expose().to_owned(), payers.len());
                payers.push(PayerLine {
                    line,
                    payer: NewPayer {
                        code: payer_code.clone(),
                        name: payer_name,
                        email,
                        invoice_email_opt_in: false,
                    },
                });
            }
        }
        if let Some(first) = child_line.insert(child_code.expose().to_owned(), line) {
            return Err(field(3, format!("code enfant déjà utilisé ligne {first}")));
        }
        children.push(ChildLine {
            line,
            payer_code,
            child: NewChild {
                code: child_code,
                payer: crate::booking::model::PayerId(0),
                first_name,
                last_name,
                school: get(6).to_owned(),
                class_label: get(7).to_owned(),
                teacher: get(8).to_owned(),
            },
        });
    }
    if children.is_empty() {
        return Err(ImportError::Line {
            line: 2,
            message: "aucune famille dans le fichier".into(),
        });
    }
    Ok((payers, children))
}

/// One `@` with something on each side and no spaces; the town's mail server does the rest.
fn is_plausible_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

async fn write(
    store: &Store,
    payers: &[PayerLine],
    children: &[ChildLine],
) -> Result<ImportSummary, ImportError> {
    let mut tx = store.begin().await?;
    let mut ids = HashMap::with_capacity(payers.len());
    for p in payers {
        let id = tx.insert_payer(&p.payer).await.map_err(|e| match e {
            StoreError::Duplicate { .. } => ImportError::Field {
                line: p.line,
                column: "payer_code",
                message: "ce code payeur existe déjà dans la base".into(),
            },
            other => other.into(),
        })?;
        ids.insert(p.payer.code.expose().to_owned(), id);
    }
    for c in children {
        let mut child = c.child.clone();
        child.payer = ids[c.payer_code.expose()];
        tx.insert_child(&child).await.map_err(|e| match e {
            StoreError::Duplicate { .. } => ImportError::Field {
                line: c.line,
                column: "child_code",
                message: "ce code enfant existe déjà dans la base".into(),
            },
            other => other.into(),
        })?;
    }
    tx.commit().await?;
    Ok(ImportSummary {
        payers: payers.len(),
        children: children.len(),
    })
}
