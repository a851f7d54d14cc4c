//! `ivr load`: the load caller, against a running server (see `ivr::load`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use ivr::load::{LoadConfig, Script, read_codes};
use ivr::media::Codec;

/// The codec the calls offer.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LoadCodec {
    /// G.711 µ-law, 8 kHz.
    Pcmu,
    /// Opus, 48 kHz.
    Opus,
}

/// Options of `ivr load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The server's SIP address (UDP)
    #[arg(long, default_value = "127.0.0.1:5060", value_name = "ADDR:PORT")]
    server: SocketAddr,
    /// What every call does
    #[arg(long, value_enum, default_value = "parent")]
    script: Script,
    /// The parent calls' codes: `child_code;payer_code;date_ddmm` per line, after that
    /// header (bench/families.py writes it); call i types line i (in turn)
    #[arg(long, value_name = "FILE")]
    codes: Option<PathBuf>,
    /// Calls to place in all
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// New calls per second
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// At most this many calls up at once
    #[arg(long, default_value_t = 100)]
    max: usize,
    /// The codec offered (with telephone-event at its clock rate)
    #[arg(long, value_enum, default_value = "pcmu")]
    codec: LoadCodec,
    /// Offer SRTP (RTP/SAVP keyed by SDES) instead of RTP in clear
    #[arg(long)]
    srtp: bool,
    /// The number dialled
    #[arg(long, default_value = "service")]
    number: String,
    /// The caller's address
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The caller's SIP port (0: any)
    #[arg(long, default_value_t = 0)]
    sip_port: u16,
    /// The first of the caller's 16 consecutive RTP ports, which its calls share (0: any)
    #[arg(long, default_value_t = 0)]
    rtp_port: u16,
    /// Seconds to wait for the answer to an INVITE (and to a BYE)
    #[arg(long, default_value_t = 32)]
    answer_timeout: u64,
    /// Also write the tally as JSON to this file
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Runs the calls and prints the tally; exits with status 1 when a call failed.
pub fn run(args: LoadArgs) -> anyhow::Result<bool> {
    let codes = match &args.codes {
        Some(path) => read_codes(path)?,
        None => Vec::new(),
    };
    let config = LoadConfig {
        server: args.server,
        bind: args.bind,
        sip_port: args.sip_port,
        rtp_port: args.rtp_port,
        number: args.number,
        codec: match args.codec {
            LoadCodec::Pcmu => Codec::Pcmu,
            LoadCodec::Opus => Codec::Opus,
        },
        srtp: args.srtp,
        script: args.script,
        codes,
        count: args.count,
        rate: args.rate,
        max_at_once: args.max,
        answer_timeout: Duration::from_secs(args.answer_timeout),
    };
    let runtime = tokio::runtime::Runtime::new().context("démarrage du moteur asynchrone")?;
    let report = runtime.block_on(ivr::load::run(config))?;
    print!("{}", report.text());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string(&report)? + "\n")
            .with_context(|| format!("écriture de {}", path.display()))?;
    }
    Ok(report.failed == 0)
}
