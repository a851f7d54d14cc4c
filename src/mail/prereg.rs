//! The e-mail telling a family what the town decided on its pre-registration request.
//!
//! It never carries a child code: codes are secrets and an e-mail travels and stays in
//! mailboxes. It says where the code is shown instead (the portal, once logged in).

/// What the staff decided, as the family is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreregAnswer {
    /// Accepted, and the child the town did not know now exists and can be booked.
    ChildCreated,
    /// Accepted: the known child's enrolment in the service is recorded.
    Enrolled,
    /// Accepted (a known child for the whole school year).
    Accepted,
    /// Refused, with the staff's reason.
    Refused {
        /// Why, as the staff wrote it.
        reason: String,
    },
}

/// A pre-registration decision to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreregNotice {
    /// The child's first name.
    pub first_name: String,
    /// The child's last name.
    pub last_name: String,
    /// The service's label ("Cantine"), `None` for the whole school year.
    pub service_label: Option<String>,
    /// "2026-2027".
    pub school_year: String,
    /// The decision.
    pub answer: PreregAnswer,
}

impl PreregNotice {
    /// The subject line.
    pub fn subject(&self) -> String {
        let verdict = match self.answer {
            PreregAnswer::Refused { .. } => "refusée",
            _ => "acceptée",
        };
        format!(
            "Préinscription de {} {} : demande {verdict}",
            self.first_name, self.last_name
        )
    }

    /// The plain-text body, addressed to `to_name`, pointing to `portal_url`, signed `town`.
    pub fn body(&self, to_name: &str, portal_url: &str, town: &str) -> String {
        let what = match &self.service_label {
            Some(label) => format!("pour « {label} », année scolaire {}", self.school_year),
            None => format!("pour toute l'année scolaire {}", self.school_year),
        };
        let first = &self.first_name;
        let request = format!(
            "Votre demande de préinscription de {first} {} {what}",
            self.last_name
        );
        let middle = match &self.answer {
            PreregAnswer::ChildCreated => format!(
                "{request} a été acceptée par la mairie.\n\n\
                 {first} est désormais inscrit(e) : vous pouvez réserver ses services sur le \
                 portail des familles et par le serveur vocal. Son code enfant est affiché sur \
                 le portail, à la page « Choisir un autre enfant », une fois connecté(e) avec le \
                 code d'un de vos enfants et votre code payeur. Pour votre sécurité, les codes ne \
                 sont jamais envoyés par courriel."
            ),
            PreregAnswer::Enrolled => format!(
                "{request} a été acceptée par la mairie : l'inscription de {first} est \
                 enregistrée. Vous pouvez réserver ses services sur le portail des familles et \
                 par le serveur vocal, avec les codes habituels."
            ),
            PreregAnswer::Accepted => format!("{request} a été acceptée par la mairie."),
            PreregAnswer::Refused { reason } => format!(
                "{request} n'a pas pu être acceptée par la mairie.\n\n\
                 Motif : {reason}"
            ),
        };
        format!(
            "Bonjour {to_name},\n\n\
             {middle}\n\n\
             Vous retrouvez votre demande et sa réponse sur le portail, à la page \
             « Préinscription » :\n{portal_url}\n\n\
             {town}\n"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(answer: PreregAnswer) -> PreregNotice {
        PreregNotice {
            first_name: "Lou".into(),
            last_name: "MARSONE".into(),
            service_label: None,
            school_year: "2026-2027".into(),
            answer,
        }
    }

    #[test]
    fn a_refusal_gives_the_reason() {
        let n = notice(PreregAnswer::Refused {
            reason: "Plus de place en maternelle".into(),
        });
        assert_eq!(
            n.subject(),
            "Préinscription de Lou MARSONE : demande refusée"
        );
        let body = n.body("Laurence MARSONE", "https://portail.example", "Mairie");
        assert!(
            body.contains("Motif : Plus de place en maternelle"),
            "{body}"
        );
        assert!(
            body.contains("pour toute l'année scolaire 2026-2027"),
            "{body}"
        );
    }

    #[test]
    fn a_created_child_is_said_bookable_and_its_code_on_the_portal() {
        let n = PreregNotice {
            service_label: Some("Cantine".into()),
            ..notice(PreregAnswer::ChildCreated)
        };
        assert_eq!(
            n.subject(),
            "Préinscription de Lou MARSONE : demande acceptée"
        );
        let body = n.body("Laurence MARSONE", "https://portail.example", "Mairie");
        for part in [
            "pour « Cantine », année scolaire 2026-2027",
            "vous pouvez réserver ses services",
            "Son code enfant est affiché sur le portail",
        ] {
            assert!(body.contains(part), "{part} in {body}");
        }
    }
}
