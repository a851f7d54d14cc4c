//! The help page ("aide en ligne"), written from the seed's help for the portal.

use axum::extract::State;
use maud::{Markup, html};

use crate::web::extract::MaybeSession;
use crate::web::layout::{Area, ParentTab, Shell, page};
use crate::web::session::Who;
use crate::web::state::AppState;

/// GET /aide
pub async fn get(State(state): State<AppState>, MaybeSession(s): MaybeSession) -> Markup {
    let (area, csrf) = match &s {
        Some((_, d)) if matches!(d.who, Who::Parent { .. }) => {
            (Area::Parent(Some(ParentTab::Help)), Some(d.csrf.as_str()))
        }
        _ => (Area::Public, None),
    };
    let shell = Shell {
        title: "Aide",
        town: state.town_name(),
        area,
        csrf,
    };
    page(&shell, body(&state.config().phone_number))
}

fn body(phone: &str) -> Markup {
    html! {
        h1 { "Aide à l'utilisation du portail famille" }
        section.card aria-labelledby="aide-connexion" {
            h2 id="aide-connexion" { "1) Connexion" }
            p { "Pour utiliser Les Parents Services, entrez le " strong { "code enfant" } " et le "
                strong { "code payeur" } " que la mairie vous a remis, puis cliquez sur le bouton « Connexion »." }
            p { "Après plusieurs codes erronés, la connexion est ralentie puis bloquée quelques minutes, "
                "pour protéger votre compte. Vos codes ne figurent jamais dans l'adresse de la page." }
            p { "Le message de votre mairie s'affiche sur la page de connexion : délais, fermetures, informations." }
        }
        section.card aria-labelledby="aide-planning" {
            h2 id="aide-planning" { "2) Le planning" }
            p { "Une fois connecté, vous arrivez directement sur le planning de votre enfant, plusieurs semaines à la fois. "
                "Chaque ligne est une prestation (Accueil Matin, Accueil 12h15, Accueil Soir, Cantine), chaque colonne un jour (Lu, Ma, Me, Je, Ve)." }
            ul {
                li { "Les cases " strong { "surlignées en vert" } " indiquent que votre enfant est inscrit." }
                li { "Les cases " strong { "grisées" } " sont des jours sans prestation (mercredi, vacances, jour férié, fermeture)." }
                li { "Les cases " strong { "verrouillées" } " ne sont plus modifiables : le délai est passé. "
                    "La raison et la date limite sont écrites dans la case." }
            }
            p { "Pour ajouter ou annuler des inscriptions, cochez ou décochez les cases voulues, puis cliquez sur "
                "« Validez vos modifications ». Seules les cases que vous avez changées sont enregistrées." }
            p { "Après avoir validé, un récapitulatif « Modifications enregistrées » vous résume les modifications effectuées, "
                "et, à part, celles qui n'ont pas pu l'être, avec leur raison." }
            p { "Les liens « Précédent », « Aujourd'hui » et « Suivant » font défiler les semaines." }
        }
        section.card aria-labelledby="aide-delais" {
            h2 id="aide-delais" { "Rappel des délais d'inscription et d'annulation" }
            ul {
                li { "Cantine : la veille (jour ouvré précédent) à 10h." }
                li { "Accueil Matin : la veille (jour ouvré précédent) à 16h." }
                li { "Accueil 12h15 : la veille (jour ouvré précédent) à 10h." }
                li { "Accueil Soir : le jour même à 16h." }
            }
            p { "Le repas du lundi se réserve donc jusqu'au vendredi 10h. La mairie peut avancer un délai "
                "(par exemple avant un pont) : le message de la mairie et la case concernée l'indiquent." }
        }
        section.card aria-labelledby="aide-enfant" {
            h2 id="aide-enfant" { "Choisir un autre enfant" }
            p { "En cliquant sur « Choisir un autre enfant », la liste de vos enfants s'affiche. "
                "Choisissez le nom et le prénom de l'enfant pour voir son planning, sans vous reconnecter." }
        }
        section.card aria-labelledby="aide-modifs" {
            h2 id="aide-modifs" { "Voir les dernières modifications" }
            p { "Depuis le planning, « Voir les dernières modifications » ouvre la liste des 40 dernières actions : "
                "les inscriptions sont marquées d'une flèche verte, les annulations d'une flèche orange, "
                "avec le canal utilisé (par internet, par téléphone ou par la mairie)." }
        }
        section.card aria-labelledby="aide-semaine-type" {
            h2 id="aide-semaine-type" { "Semaine type" }
            p { "Depuis le planning, « Semaine type » permet de cocher, pour chaque enfant, les prestations voulues "
                "chaque jour de la semaine (par exemple la cantine le lundi, le mardi et le jeudi), à partir d'une date, "
                "jusqu'à une date ou jusqu'à la fin de l'année scolaire, chaque semaine ou une semaine sur deux." }
            p { "À l'enregistrement, tous les jours correspondants encore ouverts sont réservés jusqu'à la fin du mois "
                "prochain, et la page liste ce qui a été réservé et ce qui ne l'a pas été, avec la raison (vacances, "
                "jour férié, fermeture, délai passé). Les semaines suivantes sont réservées au fur et à mesure, chaque nuit." }
            p { "Annuler un jour sur le planning ou par téléphone garde la semaine type : ce jour n'est pas réservé à nouveau. "
                "Arrêter la semaine type n'annule rien, sauf si vous cochez « Annuler aussi les inscriptions à venir faites "
                "par la semaine type »." }
        }
        section.card aria-labelledby="aide-tel" {
            h2 id="aide-tel" { "Serveur vocal" }
            p { "Vous pouvez également réserver ou annuler par téléphone, 24 heures sur 24, avec les mêmes codes et les mêmes délais"
                @if !phone.is_empty() { " : " strong { (phone) } } "." }
        }
        section.card aria-labelledby="aide-deconnexion" {
            h2 id="aide-deconnexion" { "Vous avez terminé ?" }
            p { "Avant de fermer la page, cliquez sur « Déconnexion » en haut de l'écran "
                "afin de quitter Les Parents Services en toute sécurité." }
        }
    }
}
