//! Prompt ids the voice line's own code plays, outside any dialplan's manifest: the line
//! checks at load that each has its sound, the staff flow plays them.

/// The prompt id of the beep before a recording (a tone the line makes, not a file).
pub const BEEP_PROMPT: &str = "bip";

/// The staff line's prompt ids (files in `prompts/staff/`, texts in its manifest).
pub const STAFF_PROMPTS: &[&str] = &[
    "staff_accueil",
    "staff_code_incorrect",
    "staff_au_revoir",
    "staff_enregistrez",
    "staff_rien_entendu",
    "staff_ecoute",
    "staff_garder",
    "staff_annonce_enregistree",
    "staff_erreur",
];

/// The staff line's prompts for replacing a prompt of the voice line by phone. They are not
/// required: a town's own staff folder made before them keeps its line, which then records
/// the announcement only, as it did.
pub const STAFF_VOICE_PROMPTS: &[&str] = &[
    "staff_menu",
    "staff_numero_message",
    "staff_message_inconnu",
    "staff_message_actuel",
    "staff_enregistrez_message",
    "staff_ecoute_message",
    "staff_garder_message",
    "staff_message_enregistre",
];

/// The prompt a caller hears when the server shuts down and the grace period is over,
/// before its BYE (issue 15). Not required: without it the call is hung up at once, as a
/// town's own prompt folder made before it expects.
pub const FAREWELL_PROMPT: &str = "fin_de_service";
