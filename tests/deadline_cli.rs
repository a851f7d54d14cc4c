//! End to end: the `ivr` binary answers operators with the same engine as the phone and
//! the web, whatever the server's own time zone (the child process runs with
//! TZ=America/New_York).

use std::path::Path;
use std::process::{Command, Output};

fn ivr(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ivr"))
        .args(args)
        .current_dir(dir)
        .env("TZ", "America/New_York")
        .env_remove("IVR_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("the ivr binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

const SEED_TOML: &str = r#"
[calendar]
closures = [2020-05-22]

[[calendar.overrides]]
date = 2020-05-25
actions = "cancel"
deadline = 2020-05-20T10:15:00
message = "ATTENTION! En raison du week-end de l'Ascension, les annulations pour le lundi 25 mai NE SONT PLUS POSSIBLES depuis mercredi 20 mai à 10H15."
"#;

#[test]
fn monday_meal_with_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let o = ivr(
        dir.path(),
        &[
            "deadline",
            "--service",
            "REPAS",
            "--date",
            "2014-05-05",
            "--now",
            "2014-05-02T09:59:00+02:00",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Jour : lundi 5 mai 2014"), "{out}");
    assert!(
        out.contains("Inscription : ouverte ; délai le vendredi 2 mai 2014 à 10h00 (Europe/Paris, 2014-05-02T08:00:00Z)"),
        "{out}"
    );
    assert!(out.contains("Annulation : ouverte"), "{out}");

    let o = ivr(
        dir.path(),
        &[
            "deadline",
            "--service",
            "REPAS",
            "--date",
            "2014-05-05",
            "--now",
            "2014-05-02T08:00:00Z",
        ],
    );
    let out = stdout(&o);
    assert!(
        out.contains("Inscription : fermée ; délai le vendredi 2 mai 2014 à 10h00 (Europe/Paris, 2014-05-02T08:00:00Z) ; Les inscriptions pour le lundi 5 mai sont closes depuis le vendredi 2 mai à 10h00."),
        "{out}"
    );
}

#[test]
fn seed_override_from_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mairie.toml");
    std::fs::write(&config, SEED_TOML).unwrap();
    let config = config.to_str().unwrap();
    let o = ivr(
        dir.path(),
        &[
            "deadline",
            "--config",
            config,
            "--service",
            "REPAS",
            "--date",
            "2020-05-25",
            "--now",
            "2020-05-20T10:10:00+02:00",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // Booking: Thursday 21 is Ascension and Friday 22 is closed, so Wednesday 10:00.
    assert!(
        out.contains("Inscription : fermée ; délai le mercredi 20 mai 2020 à 10h00"),
        "{out}"
    );
    assert!(
        out.contains("Annulation : ouverte ; délai le mercredi 20 mai 2020 à 10h15"),
        "{out}"
    );

    let o = ivr(
        dir.path(),
        &[
            "deadline",
            "--config",
            config,
            "--service",
            "SOIR",
            "--date",
            "2020-05-25",
            "--now",
            "2020-05-20T10:15:00+02:00",
        ],
    );
    let out = stdout(&o);
    assert!(
        out.contains("Annulation : fermée ; délai le mercredi 20 mai 2020 à 10h15 (Europe/Paris, 2020-05-20T08:15:00Z) ; ATTENTION! En raison du week-end de l'Ascension"),
        "{out}"
    );
    assert!(
        out.contains("Inscription : ouverte ; délai le lundi 25 mai 2020 à 16h00"),
        "{out}"
    );
}

#[test]
fn the_config_file_in_the_current_folder_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ivr.toml"), SEED_TOML).unwrap();
    let o = ivr(
        dir.path(),
        &[
            "deadline",
            "--service",
            "REPAS",
            "--date",
            "2020-05-22",
            "--now",
            "2020-05-01T10:00:00+02:00",
        ],
    );
    let out = stdout(&o);
    assert!(
        out.contains("Inscription : fermée ; pas de délai ; Pas de cantine le vendredi 22 mai : la mairie est fermée ce jour-là."),
        "{out}"
    );
}

#[test]
fn refusals_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let o = ivr(
        dir.path(),
        &[
            "deadline",
            "--service",
            "matin",
            "--date",
            "2014-05-07",
            "--now",
            "2014-05-01T10:00:00+02:00",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(
            "Inscription : fermée ; pas de délai ; Pas d'accueil matin le mercredi 7 mai."
        ),
        "{}",
        stdout(&o)
    );
    let o = ivr(
        dir.path(),
        &[
            "deadline",
            "--service",
            "REPAS",
            "--date",
            "2026-11-11",
            "--now",
            "2026-11-01T10:00:00+01:00",
        ],
    );
    assert!(
        stdout(&o).contains("Pas de cantine le mercredi 11 novembre."),
        "{}",
        stdout(&o)
    );
    let o = ivr(
        dir.path(),
        &[
            "deadline",
            "--service",
            "REPAS",
            "--date",
            "2026-11-12",
            "--now",
            "2026-11-01T10:00:00+01:00",
        ],
    );
    assert!(
        stdout(&o).contains("Inscription : ouverte ; délai le mardi 10 novembre 2026 à 10h00"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn without_now_the_clock_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let o = ivr(
        dir.path(),
        &["deadline", "--service", "SOIR", "--date", "2090-01-09"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Maintenant : "), "{out}");
    assert!(
        out.contains("Inscription : ouverte ; délai le lundi 9 janvier 2090 à 16h00"),
        "{out}"
    );
}

#[test]
fn unknown_service_bad_input_and_bad_config_fail() {
    let dir = tempfile::tempdir().unwrap();
    let o = ivr(
        dir.path(),
        &["deadline", "--service", "PISCINE", "--date", "2014-05-05"],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o)
            .contains("prestation inconnue « PISCINE » (prestations : REPAS, MATIN, MIDI, SOIR)"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());

    let o = ivr(
        dir.path(),
        &[
            "deadline",
            "--service",
            "REPAS",
            "--date",
            "2014-05-05",
            "--now",
            "demain",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--now"), "{}", stderr(&o));

    std::fs::write(
        dir.path().join("ivr.toml"),
        "[town]\ntimezone = \"Europe/Pariss\"\n",
    )
    .unwrap();
    let o = ivr(
        dir.path(),
        &["deadline", "--service", "REPAS", "--date", "2014-05-05"],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("configuration ivr.toml, ligne 2, clé `town.timezone`"),
        "{}",
        stderr(&o)
    );

    let o = ivr(
        dir.path(),
        &[
            "deadline",
            "--config",
            "absent.toml",
            "--service",
            "REPAS",
            "--date",
            "2014-05-05",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("absent.toml"), "{}", stderr(&o));
}

#[test]
fn flags_override_the_file_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let o = ivr(
        dir.path(),
        &[
            "--database-url",
            "mysql://x",
            "deadline",
            "--service",
            "REPAS",
            "--date",
            "2014-05-05",
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("`server.database_url`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn calendar_import_prints_toml_for_the_zone() {
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fr-en-calendrier-scolaire.csv");
    let o = ivr(
        dir.path(),
        &[
            "calendar",
            "import",
            fixture.to_str().unwrap(),
            "--zone",
            "Zone A",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(
        out.matches("[[calendar.school_holidays]]").count(),
        8,
        "{out}"
    );
    assert!(
        out.contains("name = \"Pont de l'Ascension\"\nfirst = 2026-05-14\nlast = 2026-05-17"),
        "{out}"
    );
    let err = stderr(&o);
    assert!(err.contains("ligne 17 (Vacances d'Été)"), "{err}");
    assert_eq!(err.matches("attention").count(), 1, "{err}");

    // The output is a valid ivr.toml.
    std::fs::write(dir.path().join("ivr.toml"), &out).unwrap();
    let o = ivr(
        dir.path(),
        &[
            "deadline",
            "--service",
            "REPAS",
            "--date",
            "2026-02-09",
            "--now",
            "2026-01-01T10:00:00+01:00",
        ],
    );
    assert!(
        stdout(&o).contains("Pas de cantine le lundi 9 février : Vacances d'Hiver."),
        "{}",
        stdout(&o)
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire\nNoël;-;hier;demain;Lyon;Zone A;2025-2026\n").unwrap();
    let o = ivr(
        dir.path(),
        &[
            "calendar",
            "import",
            bad.to_str().unwrap(),
            "--zone",
            "Zone A",
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("ligne 2 : « Date de début » : date illisible « hier »"),
        "{}",
        stderr(&o)
    );
}

/// Issue 14: `ivr deadline` read the calendar from the file only, so it could disagree with
/// the phone on a day staff changed. School holidays stored in the database (here with
/// `ivr calendar import --write`, as the staff's closures and overrides are stored by the
/// portal) now close the day for `ivr deadline` as they do for the phone and the web.
#[test]
fn the_deadline_command_reads_the_databases_calendar() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/ivr.sqlite", dir.path().display());
    let ask = || {
        ivr(
            dir.path(),
            &[
                "--database-url",
                &database,
                "deadline",
                "--service",
                "REPAS",
                "--date",
                "2026-02-09",
                "--now",
                "2026-01-01T10:00:00+01:00",
            ],
        )
    };
    let before = ask();
    assert!(before.status.success(), "{}", stderr(&before));
    assert!(
        stdout(&before).contains("Inscription : ouverte"),
        "{}",
        stdout(&before)
    );

    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fr-en-calendrier-scolaire.csv");
    let o = ivr(
        dir.path(),
        &[
            "--database-url",
            &database,
            "calendar",
            "import",
            fixture.to_str().unwrap(),
            "--zone",
            "Zone A",
            "--write",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!dir.path().join("ivr.toml").exists(), "nothing in the file");

    let after = ask();
    assert!(after.status.success(), "{}", stderr(&after));
    assert!(
        stdout(&after).contains("Pas de cantine le lundi 9 février : Vacances d'Hiver."),
        "{}",
        stdout(&after)
    );
}
