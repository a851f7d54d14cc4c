//! The errors of the dialplan layer: files that cannot be read, and dialplans or prompt
//! manifests that fail their checks. Messages are French: the people who edit a town's
//! dialplan read them in `ivr check` and in the logs of a refused reload.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// One thing wrong in a dialplan or manifest file, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: PathBuf,
    /// The node, when the problem is inside one.
    pub node: Option<String>,
    /// What is wrong, in French.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(node) = &self.node {
            write!(f, ", nœud « {node} »")?;
        }
        write!(f, " : {}", self.message)
    }
}

/// Loading dialplans or prompts failed.
#[derive(Debug, Error)]
pub enum DialplanError {
    /// A file or directory could not be read.
    // The reason is in the message, not a `source`: an error chain would print it twice.
    #[error("lecture de {} impossible : {reason}", path.display())]
    Io {
        /// What was read.
        path: PathBuf,
        /// Why it failed.
        reason: std::io::Error,
    },
    /// One or more files failed their checks; every problem found is listed.
    #[error("{}", Problems(.0))]
    Invalid(Vec<Problem>),
}

impl DialplanError {
    /// The problems found, empty for an I/O error.
    pub fn problems(&self) -> &[Problem] {
        match self {
            DialplanError::Invalid(p) => p,
            DialplanError::Io { .. } => &[],
        }
    }
}

struct Problems<'a>(&'a [Problem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}
