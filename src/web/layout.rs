//! The page shell shared by every page: header, tabs, flash messages, footer.
//!
//! Templates are maud macros: checked at compile time, and every `(value)` spliced in is
//! HTML-escaped, so text typed by staff or parents can never become markup.

use maud::{DOCTYPE, Markup, html};

use super::session::Flash;

/// Which set of tabs a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// Nobody logged in: login and help only.
    Public,
    /// A parent's pages, with the tab of the page shown (none on a sub-page such as the
    /// last changes: a tab is marked only on its own page).
    Parent(Option<ParentTab>),
    /// Staff pages.
    Staff(StaffTab),
}

/// The parents' tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentTab {
    /// The planning (and its sub-pages).
    Planning,
    /// The invoices ("Factures") and their payment.
    Invoices,
    /// Pre-registration requests ("Préinscription").
    Preregistration,
    /// The help page.
    Help,
}

/// The staff's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffTab {
    /// Town message.
    Message,
    /// Recorded announcement.
    Announcement,
    /// The town's own voice: its recordings of the voice line's prompts.
    Voice,
    /// Deadline overrides and closures.
    Deadlines,
    /// Head-count.
    HeadCount,
    /// The dashboard: calls, changes by channel, lockouts.
    Dashboard,
    /// Invoices: generating a month's.
    Invoices,
    /// Pre-registration requests to decide.
    Preregistrations,
}

/// Everything the shell needs besides the page body.
pub struct Shell<'a> {
    /// The `<title>` and the page's `<h1>` context.
    pub title: &'a str,
    /// The town's name shown in the header.
    pub town: &'a str,
    /// Which tabs.
    pub area: Area,
    /// The session's CSRF token, for the logout form (None when nobody is logged in).
    pub csrf: Option<&'a str>,
}

/// A whole HTML page around `body`.
pub fn page(shell: &Shell<'_>, body: Markup) -> Markup {
    let logout_action = match shell.area {
        Area::Staff(_) => "/mairie/deconnexion",
        _ => "/deconnexion",
    };
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (shell.title) " – Les Parents Services" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                a.skip href="#contenu" { "Aller au contenu" }
                header.top {
                    // Name and town wrap inside their own box, so that the logout stays on
                    // the first line of a phone's screen.
                    div.identity {
                        span.brand { "Les Parents Services" }
                        span.town { (shell.town) }
                    }
                    @if let (Some(csrf), false) = (shell.csrf, shell.area == Area::Public) {
                        form.inline method="post" action=(logout_action) {
                            input type="hidden" name="csrf" value=(csrf);
                            button.link type="submit" { "Déconnexion" }
                        }
                    }
                }
                (tabs(shell.area))
                main id="contenu" { (body) }
                footer {
                    "Les Parents Services – réservation de la cantine et de l'accueil périscolaire, par internet et par téléphone."
                }
            }
        }
    }
}

fn tab(href: &str, label: &str, current: bool) -> Markup {
    html! {
        @if current { a href=(href) aria-current="page" { (label) } }
        @else { a href=(href) { (label) } }
    }
}

fn tabs(area: Area) -> Markup {
    html! {
        nav.tabs aria-label="Menu" {
            @match area {
                Area::Public => {
                    (tab("/", "Connexion", false))
                    (tab("/aide", "Aide", false))
                }
                Area::Parent(t) => {
                    (tab("/planning", "Planning", t == Some(ParentTab::Planning)))
                    (tab("/factures", "Factures", t == Some(ParentTab::Invoices)))
                    (tab("/preinscription", "Préinscription", t == Some(ParentTab::Preregistration)))
                    (tab("/aide", "Aide", t == Some(ParentTab::Help)))
                }
                Area::Staff(t) => {
                    (tab("/mairie/message", "Message", t == StaffTab::Message))
                    (tab("/mairie/annonce", "Annonce vocale", t == StaffTab::Announcement))
                    (tab("/mairie/voix", "Voix du serveur", t == StaffTab::Voice))
                    (tab("/mairie/delais", "Délais et fermetures", t == StaffTab::Deadlines))
                    (tab("/mairie/effectifs", "Effectifs", t == StaffTab::HeadCount))
                    (tab("/mairie/tableau-de-bord", "Tableau de bord", t == StaffTab::Dashboard))
                    (tab("/mairie/factures", "Factures", t == StaffTab::Invoices))
                    (tab("/mairie/preinscriptions", "Préinscriptions", t == StaffTab::Preregistrations))
                }
            }
        }
    }
}

/// A flash message (notice or error) as a live region, so screen readers announce it.
pub fn flash(f: &Option<Flash>) -> Markup {
    html! {
        @match f {
            Some(Flash::Notice(s)) => p.notice role="status" { (s) },
            Some(Flash::Error(s)) => p.alert role="alert" { (s) },
            _ => {}
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let shell = Shell {
            title: "<script>alert(1)</script>",
            town: "Ville",
            area: Area::Public,
            csrf: None,
        };
        let out = page(&shell, html! { p { "<b>" } }).into_string();
        assert!(!out.contains("<script>alert"));
        assert!(out.contains("&lt;script&gt;"));
        assert!(out.contains("&lt;b&gt;"));
    }
}
