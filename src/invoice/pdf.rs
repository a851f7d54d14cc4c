//! The invoice as a PDF (filled in next).
