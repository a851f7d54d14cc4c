//! End to end: the `ivr` binary answers operators with the same engine as the phone and
//! the web, whatever the server's own time zone (the child process runs with
//! TZ=America/New_York).

mod store_support;

use std::path::Path;
use std::process::Output;

use store_support::cli::{failed, fixture, ivr_in, stderr, stdout, succeeded};

/// `ivr ARGS` in `dir`, on a server in New York, logging at the default level.
fn ivr(dir: &Path, args: &[&str]) -> Output {
    ivr_in(dir)
        .args(args)
        .env("TZ", "America/New_York")
        .env_remove("RUST_LOG")
        .output()
        .expect("the ivr binary runs")
}

/// One question to `ivr deadline`: a service on a day, at an instant (`None`: the clock's).
#[derive(Debug, Clone, Copy)]
struct Ask<'a> {
    service: &'a str,
    date: &'a str,
    now: Option<&'a str>,
}

/// The question about `service` on `date` at the instant `now`.
fn ask<'a>(service: &'a str, date: &'a str, now: &'a str) -> Ask<'a> {
    Ask {
        service,
        date,
        now: Some(now),
    }
}

/// Monday 9 February 2026's meal (in zone A's winter holidays), asked on 1 January.
fn winter_monday_meal() -> Ask<'static> {
    ask("REPAS", "2026-02-09", "2026-01-01T10:00:00+01:00")
}

/// Runs `ivr FLAGS deadline --service … --date … [--now …]` in `dir`.
fn deadline(dir: &Path, flags: &[&str], ask: Ask) -> Output {
    let mut args = flags.to_vec();
    args.extend(["deadline", "--service", ask.service, "--date", ask.date]);
    if let Some(now) = ask.now {
        args.extend(["--now", now]);
    }
    ivr(dir, &args)
}

/// Asks each question in `dir` with `flags`: each run must succeed and its answer contain
/// every one of the question's lines. A failure names the question.
fn assert_answers(dir: &Path, flags: &[&str], cases: &[(Ask, &[&str])]) {
    for (ask, lines) in cases {
        let o = deadline(dir, flags, *ask);
        assert!(o.status.success(), "{ask:?}: {}", stderr(&o));
        let out = stdout(&o);
        for line in *lines {
            assert!(out.contains(line), "{ask:?}: {line:?} missing from:\n{out}");
        }
    }
}

/// [`assert_answers`] in an empty folder, so with the built-in configuration.
fn assert_default_answers(cases: &[(Ask, &[&str])]) {
    let dir = tempfile::tempdir().unwrap();
    assert_answers(dir.path(), &[], cases);
}

/// Asks `ask` in `dir` with `flags`: the run must fail and its error output contain `says`.
/// Returns the run.
fn assert_refused(dir: &Path, flags: &[&str], ask: Ask, says: &str) -> Output {
    let o = deadline(dir, flags, ask);
    let err = failed(&o);
    assert!(err.contains(says), "{ask:?}: {says:?} missing from:\n{err}");
    o
}

/// Runs `ivr FLAGS calendar import CSV --zone "Zone A" EXTRA…` in `dir`.
fn calendar_import(dir: &Path, flags: &[&str], csv: &str, extra: &[&str]) -> Output {
    let mut args = flags.to_vec();
    args.extend(["calendar", "import", csv, "--zone", "Zone A"]);
    args.extend_from_slice(extra);
    ivr(dir, &args)
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
    assert_default_answers(&[
        (
            ask("REPAS", "2014-05-05", "2014-05-02T09:59:00+02:00"),
            &[
                "Jour : lundi 5 mai 2014",
                "Inscription : ouverte ; délai le vendredi 2 mai 2014 à 10h00 (Europe/Paris, 2014-05-02T08:00:00Z)",
                "Annulation : ouverte",
            ],
        ),
        (
            ask("REPAS", "2014-05-05", "2014-05-02T08:00:00Z"),
            &[
                "Inscription : fermée ; délai le vendredi 2 mai 2014 à 10h00 (Europe/Paris, 2014-05-02T08:00:00Z) ; Les inscriptions pour le lundi 5 mai sont closes depuis le vendredi 2 mai à 10h00.",
            ],
        ),
    ]);
}

#[test]
fn seed_override_from_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mairie.toml");
    std::fs::write(&config, SEED_TOML).unwrap();
    assert_answers(
        dir.path(),
        &["--config", config.to_str().unwrap()],
        &[
            (
                ask("REPAS", "2020-05-25", "2020-05-20T10:10:00+02:00"),
                // Booking: Thursday 21 is Ascension and Friday 22 is closed, so Wednesday 10:00.
                &[
                    "Inscription : fermée ; délai le mercredi 20 mai 2020 à 10h00",
                    "Annulation : ouverte ; délai le mercredi 20 mai 2020 à 10h15",
                ],
            ),
            (
                ask("SOIR", "2020-05-25", "2020-05-20T10:15:00+02:00"),
                &[
                    "Annulation : fermée ; délai le mercredi 20 mai 2020 à 10h15 (Europe/Paris, 2020-05-20T08:15:00Z) ; ATTENTION! En raison du week-end de l'Ascension",
                    "Inscription : ouverte ; délai le lundi 25 mai 2020 à 16h00",
                ],
            ),
        ],
    );
}

#[test]
fn the_config_file_in_the_current_folder_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ivr.toml"), SEED_TOML).unwrap();
    assert_answers(
        dir.path(),
        &[],
        &[(
            ask("REPAS", "2020-05-22", "2020-05-01T10:00:00+02:00"),
            &[
                "Inscription : fermée ; pas de délai ; Pas de cantine le vendredi 22 mai : la mairie est fermée ce jour-là.",
            ],
        )],
    );
}

#[test]
fn refusals_say_why() {
    assert_default_answers(&[
        (
            ask("matin", "2014-05-07", "2014-05-01T10:00:00+02:00"),
            &["Inscription : fermée ; pas de délai ; Pas d'accueil matin le mercredi 7 mai."],
        ),
        (
            ask("REPAS", "2026-11-11", "2026-11-01T10:00:00+01:00"),
            &["Pas de cantine le mercredi 11 novembre."],
        ),
        (
            ask("REPAS", "2026-11-12", "2026-11-01T10:00:00+01:00"),
            &["Inscription : ouverte ; délai le mardi 10 novembre 2026 à 10h00"],
        ),
    ]);
}

#[test]
fn without_now_the_clock_is_read() {
    let at_the_clock = Ask {
        service: "SOIR",
        date: "2090-01-09",
        now: None,
    };
    assert_default_answers(&[(
        at_the_clock,
        &[
            "Maintenant : ",
            "Inscription : ouverte ; délai le lundi 9 janvier 2090 à 16h00",
        ],
    )]);
}

#[test]
fn unknown_service_bad_input_and_bad_config_fail() {
    let dir = tempfile::tempdir().unwrap();
    let monday = |service| Ask {
        service,
        date: "2014-05-05",
        now: None,
    };
    let o = assert_refused(
        dir.path(),
        &[],
        monday("PISCINE"),
        "prestation inconnue « PISCINE » (prestations : REPAS, MATIN, MIDI, SOIR)",
    );
    assert!(stdout(&o).is_empty());

    assert_refused(
        dir.path(),
        &[],
        ask("REPAS", "2014-05-05", "demain"),
        "--now",
    );

    std::fs::write(
        dir.path().join("ivr.toml"),
        "[town]\ntimezone = \"Europe/Pariss\"\n",
    )
    .unwrap();
    assert_refused(
        dir.path(),
        &[],
        monday("REPAS"),
        "configuration ivr.toml, ligne 2, clé `town.timezone`",
    );

    assert_refused(
        dir.path(),
        &["--config", "absent.toml"],
        monday("REPAS"),
        "absent.toml",
    );
}

#[test]
fn flags_override_the_file_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(
        dir.path(),
        &["--database-url", "mysql://x"],
        Ask {
            service: "REPAS",
            date: "2014-05-05",
            now: None,
        },
        "`server.database_url`",
    );
}

#[test]
fn calendar_import_prints_toml_for_the_zone() {
    let dir = tempfile::tempdir().unwrap();
    let o = calendar_import(
        dir.path(),
        &[],
        &fixture("fr-en-calendrier-scolaire.csv"),
        &[],
    );
    let out = succeeded(&o);
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
    assert_answers(
        dir.path(),
        &[],
        &[(
            winter_monday_meal(),
            &["Pas de cantine le lundi 9 février : Vacances d'Hiver."],
        )],
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Description;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire\nNoël;-;hier;demain;Lyon;Zone A;2025-2026\n").unwrap();
    let err = failed(&calendar_import(
        dir.path(),
        &[],
        bad.to_str().unwrap(),
        &[],
    ));
    assert!(
        err.contains("ligne 2 : « Date de début » : date illisible « hier »"),
        "{err}"
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
    let flags = ["--database-url", database.as_str()];
    assert_answers(
        dir.path(),
        &flags,
        &[(winter_monday_meal(), &["Inscription : ouverte"])],
    );

    succeeded(&calendar_import(
        dir.path(),
        &flags,
        &fixture("fr-en-calendrier-scolaire.csv"),
        &["--write"],
    ));
    assert!(!dir.path().join("ivr.toml").exists(), "nothing in the file");

    assert_answers(
        dir.path(),
        &flags,
        &[(
            winter_monday_meal(),
            &["Pas de cantine le lundi 9 février : Vacances d'Hiver."],
        )],
    );
}
