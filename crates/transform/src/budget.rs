//! Per-record budgets: how much work and output one record may cost before it fails
//! alone (`ProcessingFailed`, [`TransformError::OverBudget`]), whatever the others in its
//! batch do. Each limit is derived from a limit of the service the output goes to: a
//! record the transform could finish but Lambda or Firehose could never return or
//! deliver is better failed early, with a reason, than after it has taken the memory of
//! the whole invocation.

use std::cell::Cell;
use std::io;

use crate::error::TransformError;

/// Output bytes of one transformed record (template output, or the flattened record):
/// 4,500,000. Lambda returns at most 6 MB synchronously (the function keeps 6,000,000
/// bytes, `DEFAULT_RESPONSE_LIMIT`), and Firehose's response carries each record's data
/// base64-encoded (4 bytes per 3), so no record larger than 6,000,000 × 3 / 4 could be
/// returned at all.
pub const MAX_OUTPUT_BYTES: usize = 6_000_000 / 4 * 3;

/// Keys of one flattened record: 100,000. Each key costs about 64 bytes of map beyond its
/// text, so the map stays under ~7 MB on top of the output budget (a 128 MB Lambda has
/// room for it). A record of Firehose's 1,000 KiB maximum needs leaves of 10 bytes or
/// fewer, on average, to reach it.
pub const MAX_FLATTEN_KEYS: usize = 100_000;

/// Nesting depth of a record: serde_json's recursion limit, 128, which the `Value` path
/// applies when it parses (documents nested 128 deep or more are rejected); the raw
/// scanner applies the same limit, so both paths accept the same records.
pub const MAX_DEPTH: usize = 128;

/// Block iterations (`{{#each}}` bodies rendered) for one record: 1,000,000. A record of
/// Firehose's 1,000 KiB maximum has at most ~500,000 array elements (`0,`), so one
/// `{{#each}}` over any record fits; nested ones over the same data (n² bodies) stop here,
/// at around a second of work, instead of running the invocation into its timeout.
pub const MAX_ITERATIONS: u64 = 1_000_000;

/// Partition-key value bytes: 512. S3 keys are at most 1,024 bytes (UTF-8), and the
/// value is one segment of a prefix that also holds the other keys, the literal text and
/// Firehose's object name (~100 bytes): half of the key leaves them the rest.
pub const MAX_PARTITION_KEY_BYTES: usize = 512;

/// The [`TransformError::OverBudget`] for `what` crossing `limit` `unit`.
pub(crate) fn over(what: &'static str, limit: usize, unit: &'static str) -> TransformError {
    TransformError::OverBudget { what, limit, unit }
}

/// The error for output past [`MAX_OUTPUT_BYTES`].
pub(crate) fn output_over() -> TransformError {
    over("the transformed record", MAX_OUTPUT_BYTES, "bytes")
}

/// A writer that refuses to grow `out` past `limit` bytes (counted from where it starts):
/// rendering stops at the first write that would cross it, so an amplifying template
/// never allocates more than the budget.
pub(crate) struct LimitedWriter<'a> {
    out: &'a mut Vec<u8>,
    end: usize,
    /// Whether a write was refused.
    pub(crate) exceeded: bool,
}

impl<'a> LimitedWriter<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>, limit: usize) -> Self {
        let end = out.len().saturating_add(limit);
        Self {
            out,
            end,
            exceeded: false,
        }
    }
}

impl io::Write for LimitedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.out.len() + buf.len() > self.end {
            self.exceeded = true;
            return Err(io::Error::other("per-record output budget exceeded"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

thread_local! {
    /// Block iterations of the record being rendered on this thread.
    static ITERATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Starts counting iterations for a new render.
pub(crate) fn reset_iterations() {
    ITERATIONS.with(|c| c.set(0));
}

/// Counts one block iteration; false once the record is past [`MAX_ITERATIONS`].
pub(crate) fn tick() -> bool {
    ITERATIONS.with(|c| {
        let n = c.get() + 1;
        c.set(n);
        n <= MAX_ITERATIONS
    })
}

/// Whether the render on this thread crossed [`MAX_ITERATIONS`].
pub(crate) fn iterations_exceeded() -> bool {
    ITERATIONS.with(|c| c.get() > MAX_ITERATIONS)
}
