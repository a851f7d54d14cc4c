//! The payment layer's one error type.

use thiserror::Error;

/// Everything that can go wrong while building, verifying or checking a payment.
///
/// The `Display` texts are for staff and logs (they never contain keys or signatures);
/// [`PaymentError::user_message`] gives the sentence a parent may see.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PaymentError {
    /// The signature received does not match the one computed with our key.
    #[error("signature invalide")]
    BadSignature,
    /// A field the protocol requires is absent.
    #[error("champ obligatoire absent : {0}")]
    MissingField(String),
    /// A field is present twice, so which value was signed is ambiguous.
    #[error("champ présent plusieurs fois : {0}")]
    DuplicateField(String),
    /// A field's value does not have the expected format.
    #[error("champ {field} invalide : {reason}")]
    BadField {
        /// The field's name.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `vads_ctx_mode` is neither `TEST` nor `PRODUCTION`.
    #[error("mode inconnu : {0}")]
    UnknownMode(String),
    /// A genuine message of the other mode (a TEST payment reaching a PRODUCTION shop):
    /// no real money moved, so it must not pay anything.
    #[error("message du mode {received} alors que la boutique est en mode {expected}")]
    ModeMismatch {
        /// The shop's mode.
        expected: &'static str,
        /// The message's mode.
        received: &'static str,
    },
    /// No key is configured for the mode the message claims.
    #[error("aucune clé configurée pour le mode {0}")]
    NoKeyForMode(&'static str),
    /// The message is for another shop or client number than ours.
    #[error("message destiné à une autre boutique ({0})")]
    WrongShop(String),
    /// The day's 900,000 SystemPay transaction numbers are used up.
    #[error("plus de numéro de transaction disponible pour ce jour")]
    TransIdsExhausted,
    /// A returned field does not match the request we stored (PayFiP classic signs nothing).
    #[error("le champ {0} du retour ne correspond pas à la demande enregistrée")]
    Mismatch(&'static str),
    /// The provider could not be reached or answered with an HTTP error.
    #[error("service de paiement injoignable : {0}")]
    Transport(String),
    /// The provider's answer could not be read.
    #[error("réponse illisible du service de paiement : {0}")]
    BadResponse(String),
    /// PayFiP fault `P5`: the result is not known yet (the payer is still on the page).
    #[error("résultat du paiement pas encore connu (P5)")]
    Pending,
    /// PayFiP fault `P1`: the operation id is unknown (or expired after 15 minutes).
    #[error("opération de paiement inconnue (P1)")]
    UnknownOperation,
    /// Any other fault returned by the provider.
    #[error("erreur du service de paiement {code} : {message}")]
    Fault {
        /// The provider's error code.
        code: String,
        /// The provider's label.
        message: String,
    },
}

impl PaymentError {
    /// Shorthand for a malformed field.
    pub fn bad(field: &str, reason: impl Into<String>) -> Self {
        PaymentError::BadField {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// The sentence a parent may see; details stay in the logs.
    pub fn user_message(&self) -> &'static str {
        match self {
            PaymentError::Pending => {
                "Le résultat de votre paiement n'est pas encore connu ; réessayez dans quelques minutes."
            }
            PaymentError::Transport(_)
            | PaymentError::Fault { .. }
            | PaymentError::BadResponse(_) => {
                "Le service de paiement est momentanément indisponible ; réessayez plus tard."
            }
            PaymentError::TransIdsExhausted => {
                "Le paiement en ligne est momentanément indisponible ; réessayez demain."
            }
            _ => "Le paiement n'a pas pu être vérifié. Aucune somme n'a été enregistrée.",
        }
    }
}
