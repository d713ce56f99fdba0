//! Size/interval buffering, as Firehose does twice: before invoking the processor
//! (`BufferSizeInMBs`, `BufferIntervalInSeconds`) and before writing an object (`SizeInMBs`,
//! `IntervalInSeconds`). Whichever limit is reached first flushes the buffer. Time is passed
//! in, so the rules are tested without waiting.

use std::time::{Duration, Instant};

/// The two hints of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    /// Flush when this many bytes are buffered.
    pub size_bytes: usize,
    /// Flush when the oldest buffered item has waited this long.
    pub interval: Duration,
}

impl Hints {
    /// Hints from a size in MB (Firehose's MB are MiB: 1 MB = 1,048,576 bytes; decimals allowed,
    /// 0.2 MB = 209,715 bytes) and an interval in seconds.
    pub fn from_mb(size_mb: f64, interval_seconds: u64) -> Self {
        Self {
            size_bytes: ((size_mb * 1_048_576.0) as usize).max(1),
            interval: Duration::from_secs(interval_seconds),
        }
    }

    /// The same hints with the interval capped at `max` (for fast local runs).
    pub fn cap_interval(self, max: Option<Duration>) -> Self {
        match max {
            Some(m) if m < self.interval => Self {
                interval: m,
                ..self
            },
            _ => self,
        }
    }
}

/// Items waiting for a flush.
#[derive(Debug)]
pub struct Buffer<T> {
    hints: Hints,
    items: Vec<T>,
    bytes: usize,
    since: Option<Instant>,
}

impl<T> Buffer<T> {
    /// An empty buffer.
    pub fn new(hints: Hints) -> Self {
        Self {
            hints,
            items: Vec::new(),
            bytes: 0,
            since: None,
        }
    }

    /// Adds an item of `bytes` bytes at `now`.
    pub fn push(&mut self, item: T, bytes: usize, now: Instant) {
        if self.items.is_empty() {
            self.since = Some(now);
        }
        self.items.push(item);
        self.bytes += bytes;
    }

    /// Whether adding `bytes` more would pass the size hint while the buffer already holds
    /// something: flush first, so a batch stays within the hint (a single item larger than the
    /// hint still goes alone).
    pub fn would_overflow(&self, bytes: usize) -> bool {
        !self.items.is_empty() && self.bytes + bytes > self.hints.size_bytes
    }

    /// Whether the size hint is reached or the oldest item has waited the interval.
    pub fn is_due(&self, now: Instant) -> bool {
        !self.items.is_empty()
            && (self.bytes >= self.hints.size_bytes
                || self
                    .since
                    .is_some_and(|s| now.duration_since(s) >= self.hints.interval))
    }

    /// When the interval of the oldest item ends (None when empty).
    pub fn deadline(&self) -> Option<Instant> {
        self.since.map(|s| s + self.hints.interval)
    }

    /// Takes every item out.
    pub fn take(&mut self) -> Vec<T> {
        self.bytes = 0;
        self.since = None;
        std::mem::take(&mut self.items)
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Buffered bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn megabytes_are_mebibytes_with_decimals() {
        assert_eq!(Hints::from_mb(1.0, 60).size_bytes, 1_048_576);
        assert_eq!(Hints::from_mb(0.2, 60).size_bytes, 209_715);
        assert_eq!(Hints::from_mb(3.0, 900).interval, Duration::from_secs(900));
    }

    #[test]
    fn flushes_on_size() {
        let now = Instant::now();
        let mut b = Buffer::new(Hints {
            size_bytes: 10,
            interval: Duration::from_secs(60),
        });
        b.push("a", 4, now);
        b.push("b", 5, now);
        assert!(!b.is_due(now));
        assert!(b.would_overflow(2));
        assert!(!b.would_overflow(1));
        b.push("c", 1, now);
        assert!(b.is_due(now));
        assert_eq!(b.take(), vec!["a", "b", "c"]);
        assert!(b.is_empty() && b.bytes() == 0 && b.deadline().is_none());
    }

    #[test]
    fn flushes_on_interval_from_the_oldest_item() {
        let t0 = Instant::now();
        let mut b = Buffer::new(Hints {
            size_bytes: 1000,
            interval: Duration::from_secs(60),
        });
        assert!(
            !b.is_due(t0 + Duration::from_secs(3600)),
            "an empty buffer is never due"
        );
        b.push(1, 1, t0);
        b.push(2, 1, t0 + Duration::from_secs(50));
        assert!(!b.is_due(t0 + Duration::from_secs(59)));
        assert!(b.is_due(t0 + Duration::from_secs(60)));
        assert_eq!(b.deadline(), Some(t0 + Duration::from_secs(60)));
        b.take();
        b.push(3, 1, t0 + Duration::from_secs(61));
        assert!(
            !b.is_due(t0 + Duration::from_secs(100)),
            "the interval restarts after a flush"
        );
    }

    #[test]
    fn a_single_large_item_is_not_an_overflow() {
        let b: Buffer<u8> = Buffer::new(Hints {
            size_bytes: 10,
            interval: Duration::from_secs(1),
        });
        assert!(!b.would_overflow(100));
    }

    #[test]
    fn interval_cap() {
        let h = Hints::from_mb(5.0, 300);
        assert_eq!(
            h.cap_interval(Some(Duration::from_secs(2))).interval,
            Duration::from_secs(2)
        );
        assert_eq!(
            h.cap_interval(Some(Duration::from_secs(900))).interval,
            Duration::from_secs(300)
        );
        assert_eq!(h.cap_interval(None), h);
    }
}
