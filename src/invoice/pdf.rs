//! The invoice as a real PDF, built with printpdf.
//!
//! Font choice: DejaVu Sans (text) and DejaVu Sans Mono (amounts, so that they can be aligned
//! on the right without measuring glyphs), embedded from the `dejavu` crate, which bundles the
//! TTF files: nothing to install on the server, and every French accent, `€`, `«»` and `œ`
//! print. printpdf subsets the fonts and writes a ToUnicode map, so `pdftotext` and screen
//! readers get the text back.

use chrono::NaiveDate;
use printpdf::{
    Line, LinePoint, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions,
    Point, Pt, TextItem,
};
use serde::{Deserialize, Serialize};

use super::InvoiceError;
use super::generate::InvoiceLine;
use super::number::InvoiceNumber;
use crate::booking::model::Cents;

/// The town's block at the top of every invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TownHeader {
    /// "Mairie de Saint-Julien-en-Genevois".
    pub name: String,
    /// Postal address, one line each.
    pub address: Vec<String>,
    /// The issuing service and how to reach it ("Service scolaire – 04 50 00 00 00").
    pub service: String,
}

impl Default for TownHeader {
    fn default() -> Self {
        Self {
            name: "Mairie".to_owned(),
            address: Vec::new(),
            service: "Service scolaire".to_owned(),
        }
    }
}

/// Everything printed on one invoice.
#[derive(Debug, Clone)]
pub struct InvoiceDocument<'a> {
    /// The town's header.
    pub town: &'a TownHeader,
    /// The invoice number.
    pub number: InvoiceNumber,
    /// The date of issue.
    pub issued: NaiveDate,
    /// The due date.
    pub due: NaiveDate,
    /// "Régie: restauration et garderie, CANTINE ET GARDERIE".
    pub regie_label: &'a str,
    /// "novembre 2014".
    pub period: &'a str,
    /// The payer's name.
    pub payer_name: &'a str,
    /// The payer's postal address, if known.
    pub payer_address: &'a [String],
    /// The lines.
    pub lines: &'a [InvoiceLine],
    /// The total; must equal the sum of the lines.
    pub total: Cents,
}

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const LEFT: f32 = 18.0;
const RIGHT: f32 = PAGE_W - 18.0;
/// DejaVu Sans Mono's advance width: 1233 units of 2048 per em.
const MONO_ADVANCE_EM: f32 = 1233.0 / 2048.0;
const PT_TO_MM: f32 = 25.4 / 72.0;
/// Table rows that fit below the header on the first page, and on the following ones.
const ROWS_FIRST_PAGE: usize = 26;
const ROWS_NEXT_PAGES: usize = 40;

struct Fonts {
    regular: PdfFontHandle,
    bold: PdfFontHandle,
    mono: PdfFontHandle,
}

struct PageOps(Vec<Op>);

impl PageOps {
    fn text(&mut self, font: &PdfFontHandle, size: f32, x: f32, y: f32, text: &str) {
        self.0.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: font.clone(),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point::new(Mm(x), Mm(y)),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_owned())],
            },
            Op::EndTextSection,
        ]);
    }

    /// Monospaced text ending at `right` (mm).
    fn text_right(&mut self, font: &PdfFontHandle, size: f32, right: f32, y: f32, text: &str) {
        let width = text.chars().count() as f32 * MONO_ADVANCE_EM * size * PT_TO_MM;
        self.text(font, size, right - width, y, text);
    }

    fn rule(&mut self, y: f32, thickness: f32) {
        self.0.push(Op::SetOutlineThickness { pt: Pt(thickness) });
        self.0.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point::new(Mm(LEFT), Mm(y)),
                        bezier: false,
                    },
                    LinePoint {
                        p: Point::new(Mm(RIGHT), Mm(y)),
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }
}

/// Cuts `s` to `max` characters, with an ellipsis when cut.
fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn date_fr(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn load_font(doc: &mut PdfDocument, bytes: &[u8]) -> Result<PdfFontHandle, InvoiceError> {
    let font = ParsedFont::from_bytes(bytes, 0, &mut Vec::new())
        .ok_or_else(|| InvoiceError::Pdf("police illisible".into()))?;
    Ok(PdfFontHandle::External(doc.add_font(&font)))
}

fn table_header(p: &mut PageOps, f: &Fonts, y: f32) {
    p.text(&f.bold, 9.5, LEFT, y, "Enfant");
    p.text(&f.bold, 9.5, 70.0, y, "Prestation");
    p.text(&f.bold, 9.5, 118.0, y, "Quantité");
    p.text(&f.bold, 9.5, 140.0, y, "Prix unitaire");
    p.text(&f.bold, 9.5, 176.0, y, "Montant");
    p.rule(y - 2.0, 0.8);
}

/// Renders the invoice; errors if the total is not the sum of the lines (an inconsistent
/// invoice is never printed).
pub fn render(doc: &InvoiceDocument<'_>) -> Result<Vec<u8>, InvoiceError> {
    let sum = doc
        .lines
        .iter()
        .try_fold(0i64, |acc, l| acc.checked_add(l.amount.0))
        .ok_or(InvoiceError::Overflow)?;
    if sum != doc.total.0 {
        return Err(InvoiceError::Pdf(format!(
            "total {} différent de la somme des lignes {}",
            doc.total,
            Cents(sum)
        )));
    }
    let title = format!("Facture {}", doc.number);
    let mut pdf = PdfDocument::new(&title);
    let f = Fonts {
        regular: load_font(&mut pdf, dejavu::sans::regular())?,
        bold: load_font(&mut pdf, dejavu::sans::bold())?,
        mono: load_font(&mut pdf, dejavu::sans_mono::regular())?,
    };

    // Split the lines into pages.
    let mut chunks: Vec<&[InvoiceLine]> = Vec::new();
    let (first, mut rest) = doc.lines.split_at(doc.lines.len().min(ROWS_FIRST_PAGE));
    chunks.push(first);
    while !rest.is_empty() {
        let (c, r) = rest.split_at(rest.len().min(ROWS_NEXT_PAGES));
        chunks.push(c);
        rest = r;
    }
    let page_count = chunks.len();
    let mut pages = Vec::with_capacity(page_count);
    for (index, chunk) in chunks.into_iter().enumerate() {
        let mut p = PageOps(Vec::with_capacity(64 + chunk.len() * 30));
        let mut y = PAGE_H - 20.0;
        if index == 0 {
            // The town, top left.
            p.text(&f.bold, 14.0, LEFT, y, &fit(&doc.town.name, 45));
            for line in &doc.town.address {
                y -= 5.0;
                p.text(&f.regular, 9.5, LEFT, y, &fit(line, 55));
            }
            y -= 5.0;
            p.text(&f.regular, 9.5, LEFT, y, &fit(&doc.town.service, 55));
            // The invoice, top right.
            let top = PAGE_H - 20.0;
            p.text(&f.bold, 16.0, 125.0, top, "FACTURE");
            p.text(
                &f.regular,
                10.0,
                125.0,
                top - 7.0,
                &format!("N° {}", doc.number),
            );
            p.text(
                &f.regular,
                10.0,
                125.0,
                top - 12.0,
                &format!("Émise le {}", date_fr(doc.issued)),
            );
            p.text(
                &f.bold,
                10.0,
                125.0,
                top - 17.0,
                &format!("Date d'échéance : {}", date_fr(doc.due)),
            );
            // The payer.
            let mut py = top - 32.0;
            p.text(&f.regular, 9.0, 125.0, py, "Payeur");
            py -= 5.5;
            p.text(&f.bold, 11.0, 125.0, py, &fit(doc.payer_name, 38));
            for line in doc.payer_address {
                py -= 5.0;
                p.text(&f.regular, 10.0, 125.0, py, &fit(line, 42));
            }
            y = y.min(py) - 14.0;
            p.text(&f.bold, 11.0, LEFT, y, &fit(doc.regie_label, 90));
            y -= 6.0;
            p.text(
                &f.regular,
                10.0,
                LEFT,
                y,
                &format!("Période facturée : {}", doc.period),
            );
            y -= 12.0;
        } else {
            p.text(
                &f.regular,
                10.0,
                LEFT,
                y,
                &format!("Facture N° {} (suite)", doc.number),
            );
            y -= 12.0;
        }
        table_header(&mut p, &f, y);
        y -= 8.0;
        for line in chunk {
            p.text(&f.regular, 9.5, LEFT, y, &fit(&line.child_name, 30));
            p.text(&f.regular, 9.5, 70.0, y, &fit(&line.label, 27));
            p.text_right(&f.mono, 9.5, 134.0, y, &line.quantity.to_string());
            p.text_right(&f.mono, 9.5, 168.0, y, &line.unit_price.to_string());
            p.text_right(&f.mono, 9.5, RIGHT, y, &line.amount.to_string());
            y -= 6.0;
        }
        if index + 1 == page_count {
            p.rule(y + 2.5, 0.8);
            y -= 6.0;
            p.text(&f.bold, 12.0, 118.0, y, "Total à payer");
            p.text_right(&f.mono, 12.0, RIGHT, y, &doc.total.to_string());
            y -= 14.0;
            p.text(
                &f.regular,
                9.0,
                LEFT,
                y,
                "Règlement en ligne sur le portail des familles (carte bancaire), ou auprès de la régie.",
            );
            y -= 5.0;
            p.text(
                &f.regular,
                9.0,
                LEFT,
                y,
                &format!("Rappelez le numéro {} pour tout règlement.", doc.number),
            );
        }
        p.text(
            &f.regular,
            8.0,
            LEFT,
            12.0,
            &format!("Page {} / {}", index + 1, page_count),
        );
        pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), p.0));
    }
    let mut warnings = Vec::new();
    Ok(pdf
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::model::{ChildId, ServiceCode};

    #[test]
    fn inconsistent_total_is_refused() {
        let town = TownHeader::default();
        let lines = [InvoiceLine {
            child: ChildId(1),
            child_name: "Zoé".into(),
            service: ServiceCode::parse("REPAS").unwrap(),
            label: "Repas".into(),
            quantity: 2,
            unit_price: Cents(300),
            amount: Cents(600),
        }];
        let doc = InvoiceDocument {
            town: &town,
            number: InvoiceNumber::parse("2014-003-000162").unwrap(),
            issued: NaiveDate::from_ymd_opt(2014, 12, 1).unwrap(),
            due: NaiveDate::from_ymd_opt(2014, 12, 31).unwrap(),
            regie_label: "Régie",
            period: "novembre 2014",
            payer_name: "X",
            payer_address: &[],
            lines: &lines,
            total: Cents(601),
        };
        assert!(matches!(render(&doc), Err(InvoiceError::Pdf(_))));
        let ok = InvoiceDocument {
            total: Cents(600),
            ..doc
        };
        assert!(render(&ok).unwrap().starts_with(b"%PDF-"));
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdefg", 6), "abcde…");
    }
}
