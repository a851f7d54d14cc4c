//! The tally of a load run: how every call ended, answer times, call lengths and what the
//! calls heard, as a short text for people and JSON for `bench/run.sh`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::config::LoadConfig;
use super::pacing::Pacing;
use super::rtp::StreamStats;

/// How one call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// Answered, script played to its end, our BYE answered.
    Completed,
    /// A final answer other than 200 (0: none).
    Refused(u16),
    /// No final answer within the timeout.
    NoAnswer,
    /// The server hung up before the script ended.
    ServerHungUp,
    /// Anything else (a bad SDP answer, a BYE not answered).
    Error(String),
}

impl CallOutcome {
    /// A short label for the tally.
    fn label(&self) -> String {
        match self {
            CallOutcome::Completed => "completed".into(),
            CallOutcome::Refused(code) => format!("refused {code}"),
            CallOutcome::NoAnswer => "no answer".into(),
            CallOutcome::ServerHungUp => "server hung up".into(),
            CallOutcome::Error(e) => format!("error: {e}"),
        }
    }
}

/// One call, as the run saw it.
#[derive(Debug, Clone)]
pub struct CallResult {
    /// The call's number in the run (from 0): call `n` typed line `n` of the codes, in turn.
    pub number: u64,
    /// How it ended.
    pub outcome: CallOutcome,
    /// INVITE to 200 OK, when answered.
    pub answer: Option<Duration>,
    /// From the start of the call to its end (BYE answered or failure).
    pub length: Duration,
    /// Its RTP counters, when media started.
    pub rtp: Option<StreamStats>,
}

/// p50, p99 and max of a series, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Spread {
    /// How many values.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Spread {
        if values.is_empty() {
            return Spread::default();
        }
        values.sort_by(f64::total_cmp);
        let q = |p: f64| values[((p * values.len() as f64) as usize).min(values.len() - 1)];
        let round = |v: f64| (v * 100.0).round() / 100.0;
        Spread {
            count: values.len(),
            p50_ms: round(q(0.5)),
            p99_ms: round(q(0.99)),
            max_ms: round(values[values.len() - 1]),
        }
    }
}

/// What the calls heard from the server.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Heard {
    /// Calls whose media started.
    pub calls: usize,
    /// Calls that received no packet at all.
    pub silent_calls: usize,
    /// Packets received, all calls.
    pub packets: u64,
    /// Packets sent by the server (its sequence numbers) that never arrived.
    pub lost: u64,
    /// Packets the caller sent.
    pub sent: u64,
    /// SRTP packets from the server that failed authentication (none when SRTP works).
    pub srtp_failed: u64,
    /// The fewest packets a call received per second of media, and the median.
    pub min_packets_per_s: f64,
    /// See `min_packets_per_s`.
    pub p50_packets_per_s: f64,
    /// Talk-spurts (prompts starting) per call: the fewest and the median.
    pub min_spurts: u64,
    /// See `min_spurts`.
    pub p50_spurts: u64,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Calls placed.
    pub attempted: usize,
    /// Calls that went to their end.
    pub completed: usize,
    /// The others.
    pub failed: usize,
    /// How the failed ones ended, with how many each.
    pub failures: BTreeMap<String, usize>,
    /// The most calls up at once.
    pub peak_calls: usize,
    /// INVITE to 200 OK.
    pub answer: Spread,
    /// Whole call length.
    pub call_length: Spread,
    /// What the calls heard.
    pub rtp: Heard,
    /// The server's packets' gaps as they arrived (kernel times), against 20 ms.
    pub pacing: Pacing,
    /// The run's length in seconds.
    pub elapsed_s: f64,
    /// New calls per second asked.
    pub rate: f64,
    /// At most this many at once, as asked.
    pub max_at_once: usize,
    /// The numbers of the calls that went to their end, in order: a fault test checks from
    /// the database that each of these callers' bookings is there (call `n` typed line `n`
    /// of the codes, in turn).
    pub completed_calls: Vec<u64>,
}

impl Report {
    /// Tallies the calls of a run.
    pub fn new(
        config: &LoadConfig,
        calls: &[CallResult],
        peak: usize,
        elapsed: Duration,
        pacing: Pacing,
    ) -> Report {
        let mut failures = BTreeMap::new();
        for c in calls.iter().filter(|c| c.outcome != CallOutcome::Completed) {
            *failures.entry(c.outcome.label()).or_insert(0) += 1;
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mut completed_calls: Vec<u64> = calls
            .iter()
            .filter(|c| c.outcome == CallOutcome::Completed)
            .map(|c| c.number)
            .collect();
        completed_calls.sort_unstable();
        let completed = completed_calls.len();
        Report {
            attempted: calls.len(),
            completed,
            failed: calls.len() - completed,
            failures,
            peak_calls: peak,
            answer: Spread::of(calls.iter().filter_map(|c| c.answer).map(ms).collect()),
            call_length: Spread::of(
                calls
                    .iter()
                    .filter(|c| c.outcome == CallOutcome::Completed)
                    .map(|c| ms(c.length))
                    .collect(),
            ),
            rtp: heard(calls),
            pacing,
            elapsed_s: (elapsed.as_secs_f64() * 10.0).round() / 10.0,
            rate: config.rate,
            max_at_once: config.max_at_once,
            completed_calls,
        }
    }

    /// The tally for people.
    pub fn text(&self) -> String {
        let mut s = format!(
            "calls: {} attempted, {} completed, {} failed (peak {} at once, {:.1} s)\n\
             answer (INVITE to 200) ms: p50 {} p99 {} max {}\n\
             call length ms: p50 {} p99 {} max {}\n\
             RTP heard: {} packets, {} lost, {} silent calls, per call {} packets/s at least \
             (median {}), prompts begun {} at least (median {}); {} packets sent; \
             {} SRTP packets failed\n\
             RTP pacing (|gap - 20 ms| at arrival) ms: p50 {} p99 {} max {}, \
             {} gaps of {} over 2 ms\n",
            self.attempted,
            self.completed,
            self.failed,
            self.peak_calls,
            self.elapsed_s,
            self.answer.p50_ms,
            self.answer.p99_ms,
            self.answer.max_ms,
            self.call_length.p50_ms,
            self.call_length.p99_ms,
            self.call_length.max_ms,
            self.rtp.packets,
            self.rtp.lost,
            self.rtp.silent_calls,
            self.rtp.min_packets_per_s,
            self.rtp.p50_packets_per_s,
            self.rtp.min_spurts,
            self.rtp.p50_spurts,
            self.rtp.sent,
            self.rtp.srtp_failed,
            ms_or_dash(self.pacing.gap_dev_ms_p50),
            ms_or_dash(self.pacing.gap_dev_ms_p99),
            ms_or_dash(self.pacing.gap_dev_ms_max),
            self.pacing.gaps_over_2ms,
            self.pacing.gaps,
        );
        for (what, n) in &self.failures {
            s.push_str(&format!("  {n} × {what}\n"));
        }
        s
    }
}

fn ms_or_dash(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

fn heard(calls: &[CallResult]) -> Heard {
    let with_media: Vec<(&CallResult, StreamStats)> =
        calls.iter().filter_map(|c| c.rtp.map(|r| (c, r))).collect();
    if with_media.is_empty() {
        return Heard::default();
    }
    let mut rates: Vec<f64> = with_media
        .iter()
        .map(|(c, r)| {
            // Media starts at the answer; the BYE's round trip is within the length.
            let media = c
                .length
                .saturating_sub(c.answer.unwrap_or_default())
                .as_secs_f64();
            if media > 0.0 {
                r.received as f64 / media
            } else {
                0.0
            }
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    let mut spurts: Vec<u64> = with_media.iter().map(|(_, r)| r.spurts).collect();
    spurts.sort_unstable();
    let round = |v: f64| (v * 10.0).round() / 10.0;
    Heard {
        calls: with_media.len(),
        silent_calls: with_media.iter().filter(|(_, r)| r.received == 0).count(),
        packets: with_media.iter().map(|(_, r)| r.received).sum(),
        lost: with_media.iter().map(|(_, r)| r.lost).sum(),
        sent: with_media.iter().map(|(_, r)| r.sent).sum(),
        srtp_failed: with_media.iter().map(|(_, r)| r.srtp_failed).sum(),
        min_packets_per_s: round(rates[0]),
        p50_packets_per_s: round(rates[rates.len() / 2]),
        min_spurts: spurts[0],
        p50_spurts: spurts[spurts.len() / 2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_nearest_rank() {
        let s = Spread::of((1..=100).map(f64::from).collect());
        assert_eq!(
            (s.count, s.p50_ms, s.p99_ms, s.max_ms),
            (100, 51.0, 100.0, 100.0)
        );
        assert_eq!(Spread::of(vec![]), Spread::default());
    }
}
