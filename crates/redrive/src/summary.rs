//! What a redrive pass did.

/// The counts of a pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Messages read from the queue (each once, however often SQS delivered it in the pass).
    pub messages: u64,
    /// Ranges handled in full (their message deleted).
    pub handled: u64,
    /// Records of the handled ranges.
    pub records: u64,
    /// Of them, records already written by an earlier run.
    pub already: u64,
    /// Ranges the stream no longer holds (trimmed by retention, stream or shard deleted).
    pub unrecoverable: u64,
    /// Of them, the ones whose message was deleted (`delete_unrecoverable`).
    pub unrecoverable_deleted: u64,
    /// Ranges not handled this time (an AWS call or the sink failed): left in the queue.
    pub failed: u64,
    /// Messages that are not Kinesis on-failure messages: left in the queue.
    pub foreign: u64,
    /// The pass stopped before the queue was empty (its message limit or its deadline): more
    /// messages may be waiting for the next pass.
    pub more: bool,
}

impl Summary {
    /// Messages this pass read and left in the queue: unrecoverable ones not deleted, failed
    /// ones and foreign ones. Each needs a person, or a new pass once its cause is fixed.
    pub fn left(&self) -> u64 {
        self.unrecoverable - self.unrecoverable_deleted + self.failed + self.foreign
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "redrive: {} message(s) read; {} range(s) handled ({} record(s)",
            self.messages, self.handled, self.records
        )?;
        if self.already > 0 {
            write!(f, ", {} already written by an earlier run", self.already)?;
        }
        write!(
            f,
            "); {} unrecoverable ({} deleted); {} failed; {} not on-failure message(s); {} left in the queue",
            self.unrecoverable,
            self.unrecoverable_deleted,
            self.failed,
            self.foreign,
            self.left()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_what_is_left() {
        let s = Summary {
            messages: 4,
            handled: 1,
            records: 7,
            unrecoverable: 2,
            unrecoverable_deleted: 1,
            failed: 1,
            ..Summary::default()
        };
        assert_eq!(s.left(), 2);
        let text = s.to_string();
        assert!(
            text.contains("4 message(s) read; 1 range(s) handled (7 record(s))"),
            "{text}"
        );
        assert!(text.contains("2 unrecoverable (1 deleted)"), "{text}");
    }
}
