//! [`MediaError`]: the one error type of the media layer.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong while loading, converting, encoding or writing audio.
///
/// These are internal errors (logged, shown to operators); nothing here reaches a caller.
#[derive(Debug, Error)]
pub enum MediaError {
    /// A WAV file or stream could not be read or decoded.
    #[error("cannot read WAV {path}: {source}")]
    WavRead {
        /// The file, or `<memory>` for an in-memory reader.
        path: PathBuf,
        /// What hound reported.
        #[source]
        source: hound::Error,
    },
    /// A WAV could not be written.
    #[error("cannot write WAV: {0}")]
    WavWrite(#[source] hound::Error),
    /// The audio has a shape we refuse (no samples, no channels, an absurd rate).
    #[error("unusable audio in {path}: {reason}")]
    BadAudio {
        /// The file, or `<memory>`.
        path: PathBuf,
        /// Why, in a sentence.
        reason: String,
    },
    /// The resampler could not be built or failed.
    #[error("resampling {from_hz} Hz to {to_hz} Hz failed: {reason}")]
    Resample {
        /// Input rate.
        from_hz: u32,
        /// Output rate.
        to_hz: u32,
        /// What rubato said.
        reason: String,
    },
    /// libopus refused to build an encoder/decoder or to encode/decode.
    #[error("Opus: {0}")]
    Opus(String),
    /// A prompt the configuration asks for is not in the library.
    #[error("prompt `{id}` is missing (expected the file {path})")]
    MissingPrompt {
        /// The prompt id.
        id: String,
        /// Where its WAV was expected.
        path: PathBuf,
    },
    /// The prompt directory itself could not be listed.
    #[error("cannot list the prompt directory {path}: {source}")]
    PromptDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An RTP payload larger than the packet buffer (never happens with our own frames).
    #[error("RTP payload of {0} bytes is larger than the packet buffer")]
    PayloadTooLarge(usize),
    /// Some prompt files could not be loaded; each error names its file.
    #[error("{} prompt file(s) could not be loaded: {}", .0.len(), join(.0))]
    Prompts(Vec<MediaError>),
}

fn join(errors: &[MediaError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<audiopus::Error> for MediaError {
    fn from(e: audiopus::Error) -> Self {
        MediaError::Opus(e.to_string())
    }
}
