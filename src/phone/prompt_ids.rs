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
