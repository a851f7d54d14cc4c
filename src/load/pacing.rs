//! The server's RTP pacing as the load caller receives it: for every two consecutive packets
//! of a call (by sequence number), how far their gap is from the 20 ms packet time.
//!
//! The arrival times are the kernel's (`SO_TIMESTAMPNS`), taken as each packet crosses the
//! network stack, not when the caller's thread gets round to reading it; on loopback that is
//! the instant the server's packet left. So the figure is the server's pacing, without the
//! caller's scheduling in it, for every packet of every call of the run, and no capture is
//! needed (a capture charges its packet copies to the server and, starting, stalled the
//! caller: docs/performance.md).

use std::time::Duration;

use serde::Serialize;

/// The packet time of the server's streams.
const PTIME: Duration = Duration::from_millis(20);

/// The histogram's resolution, in µs.
const BUCKET_US: u64 = 10;

/// Deviations up to this (µs) fall in their own bucket, longer ones in the last (the maximum
/// is kept exactly).
const SPAN_US: u64 = 200_000;

/// Deviations counted as off (the pacing target), in µs.
const OFF_US: u64 = 2_000;

/// The deviations of a run, in 10 µs buckets: recorded per packet without allocating.
#[derive(Debug, Clone)]
pub struct GapHistogram {
    buckets: Vec<u64>,
    gaps: u64,
    max_us: u64,
    off: u64,
}

impl Default for GapHistogram {
    fn default() -> Self {
        GapHistogram {
            buckets: vec![0; (SPAN_US / BUCKET_US) as usize + 1],
            gaps: 0,
            max_us: 0,
            off: 0,
        }
    }
}

impl GapHistogram {
    /// Counts the gap between two consecutive packets of one stream.
    pub fn record(&mut self, gap: Duration) {
        let dev = gap.abs_diff(PTIME).as_micros().min(u128::from(u64::MAX)) as u64;
        let bucket = (dev.min(SPAN_US) / BUCKET_US) as usize;
        self.buckets[bucket] += 1;
        self.gaps += 1;
        self.max_us = self.max_us.max(dev);
        self.off += u64::from(dev > OFF_US);
    }

    /// The deviation at quantile `q` (nearest rank), in ms: the upper edge of its bucket (the
    /// maximum in the last one).
    fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.gaps == 0 {
            return None;
        }
        let rank = ((q * self.gaps as f64).ceil() as u64).clamp(1, self.gaps);
        let mut seen = 0;
        let bucket = self.buckets.iter().position(|n| {
            seen += n;
            seen >= rank
        })?;
        let edge_us = if bucket + 1 == self.buckets.len() {
            self.max_us
        } else {
            ((bucket as u64 + 1) * BUCKET_US).min(self.max_us)
        };
        Some(edge_us as f64 / 1000.0)
    }

    /// The summary, under the names `bench/pacing.py` gives a capture's.
    pub fn summary(&self, streams: usize, packets: u64) -> Pacing {
        Pacing {
            streams,
            packets,
            gaps: self.gaps,
            gap_dev_ms_p50: self.quantile_ms(0.50),
            gap_dev_ms_p99: self.quantile_ms(0.99),
            gap_dev_ms_max: (self.gaps > 0).then_some(self.max_us as f64 / 1000.0),
            gaps_over_2ms: self.off,
        }
    }
}

/// The pacing of a run, as the caller received it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Pacing {
    /// Streams that received at least one packet.
    pub streams: usize,
    /// Packets received.
    pub packets: u64,
    /// Gaps measured (between packets whose sequence numbers follow each other).
    pub gaps: u64,
    /// |gap − 20 ms|, median, in ms (to 10 µs).
    pub gap_dev_ms_p50: Option<f64>,
    /// The same at the 99th percentile.
    pub gap_dev_ms_p99: Option<f64>,
    /// The largest, exactly.
    pub gap_dev_ms_max: Option<f64>,
    /// Gaps more than 2 ms off.
    pub gaps_over_2ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deviations_are_counted_both_ways_and_read_back_by_rank() {
        let mut h = GapHistogram::default();
        // 98 on time, one 1.5 ms early, one 30 ms late (a packet time and a half).
        for _ in 0..98 {
            h.record(PTIME);
        }
        h.record(PTIME - Duration::from_micros(1_500));
        h.record(PTIME + Duration::from_millis(30));
        let p = h.summary(3, 103);
        assert_eq!((p.streams, p.packets, p.gaps), (3, 103, 100));
        assert_eq!(p.gap_dev_ms_p50, Some(0.01));
        assert_eq!(p.gap_dev_ms_p99, Some(1.51));
        assert_eq!(p.gap_dev_ms_max, Some(30.0));
        assert_eq!(p.gaps_over_2ms, 1);
    }

    #[test]
    fn beyond_the_span_the_maximum_stays_exact() {
        let mut h = GapHistogram::default();
        h.record(Duration::from_secs(3));
        let p = h.summary(1, 2);
        assert_eq!(p.gap_dev_ms_max, Some(2980.0));
        assert_eq!(p.gap_dev_ms_p99, Some(2980.0));
        assert_eq!(GapHistogram::default().summary(0, 0).gap_dev_ms_p50, None);
    }
}
