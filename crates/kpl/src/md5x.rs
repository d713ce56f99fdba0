//! Multi-buffer MD5: many independent messages digested side by side, one per SIMD lane.
//!
//! One MD5 stream is latency-bound: every step depends on the previous one, so a core digests
//! about 600 MB/s whatever its vector width. A batch of Kinesis records gives many independent
//! messages, so [`digest_many`] runs [`LANES`] of them at once: lane `l` of each state word
//! belongs to one message, every step is one vector operation over all lanes, and a lane whose
//! message ends is refilled with the next message (padding is built per lane). The digests are
//! those of the `md-5` crate (the property tests in `tests/md5x.rs` compare them).
//!
//! Why hand-written: no maintained crate digests messages of *different* lengths in lanes
//! (`md5-simd` 0.2 only uses SIMD for runs of equal length; `md5-many` is an alpha). The code
//! is portable Rust over `[u32; LANES]` arrays, which LLVM turns into vector instructions; the
//! kernel is compiled once per instruction set by the `multiversion` crate (AVX-512 and AVX2 on
//! x86_64, chosen at run time; NEON, the aarch64 baseline, on Graviton), so this crate keeps
//! `unsafe_code = "forbid"`.

// Lane loops index several arrays by lane: the form LLVM vectorizes.
#![allow(clippy::needless_range_loop)]

use md5::{Digest as _, Md5};
use multiversion::{multiversion, target::target_cfg_f};

/// Messages digested at once: one 512-bit vector of `u32` (two AVX2 vectors, four NEON ones).
pub const LANES: usize = 16;

/// Fewer messages than this are digested one by one: the lanes would mostly idle, and two
/// messages take longer in 16 lanes than one after the other (measured on AVX-512, for messages
/// of 1 KB to 50 KB; three already take about half the time).
const MIN_BATCH: usize = 3;

type V = [u32; LANES];

const IV: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// A block for idle lanes (their results are discarded).
static IDLE: [u8; 64] = [0; 64];

/// The MD5 of each message, in order. Same result as `md5::Md5::digest` on each.
#[must_use]
pub fn digest_many(messages: &[&[u8]]) -> Vec<[u8; 16]> {
    let mut out = vec![[0u8; 16]; messages.len()];
    digest_many_with(messages, |index, digest| out[index] = digest);
    out
}

/// Digests every message as [`digest_many`] does, calling `done(index, digest)` as soon as
/// message `index` is digested (in no particular order): a caller that then reads the message
/// finds much of it still in cache.
pub fn digest_many_with(messages: &[&[u8]], mut done: impl FnMut(usize, [u8; 16])) {
    if messages.len() < MIN_BATCH {
        for (index, message) in messages.iter().enumerate() {
            done(index, Md5::digest(message).into());
        }
        return;
    }
    let mut lanes: [Lane<'_>; LANES] = std::array::from_fn(|_| Lane::idle());
    let mut state: [V; 4] = [[0; LANES]; 4];
    let mut next = 0;
    for (l, lane) in lanes.iter_mut().enumerate() {
        if next < messages.len() {
            lane.start(next, messages[next]);
            set_iv(&mut state, l);
            next += 1;
        }
    }
    loop {
        // Full blocks every active lane still has: digest them without per-block bookkeeping.
        let run = lanes
            .iter()
            .filter(|lane| lane.message.is_some())
            .map(|lane| lane.body.len() / 64)
            .min();
        let Some(run) = run else { break };
        if run > 0 {
            let sources: [&[u8]; LANES] = std::array::from_fn(|l| match lanes[l].message {
                Some(_) => lanes[l].body,
                None => &IDLE[..],
            });
            let strides: [usize; LANES] =
                std::array::from_fn(|l| if lanes[l].message.is_some() { 64 } else { 0 });
            compress_run(&mut state, &sources, &strides, run);
            for lane in lanes.iter_mut().filter(|lane| lane.message.is_some()) {
                lane.body = &lane.body[run * 64..];
            }
            continue;
        }
        // Some lane is at its padding: one block for every lane, then retire finished lanes.
        {
            let sources: [&[u8]; LANES] = std::array::from_fn(|l| lanes[l].block());
            compress_run(&mut state, &sources, &[0; LANES], 1);
        }
        for (l, lane) in lanes.iter_mut().enumerate() {
            let Some(index) = lane.message else { continue };
            if lane.advance() {
                done(index, digest_of(&state, l));
                if next < messages.len() {
                    lane.start(next, messages[next]);
                    set_iv(&mut state, l);
                    next += 1;
                } else {
                    *lane = Lane::idle();
                }
            }
        }
    }
}

/// One lane's message: the full blocks left, then the padded tail (one or two blocks).
struct Lane<'a> {
    /// Index of the message, `None` when idle.
    message: Option<usize>,
    /// Full 64-byte blocks not yet digested.
    body: &'a [u8],
    /// The last partial block, `0x80`, zeros and the bit length.
    tail: [u8; 128],
    /// 64 or 128.
    tail_len: usize,
    /// Tail bytes already digested.
    tail_pos: usize,
}

impl<'a> Lane<'a> {
    fn idle() -> Self {
        Self {
            message: None,
            body: &[],
            tail: [0; 128],
            tail_len: 0,
            tail_pos: 0,
        }
    }

    fn start(&mut self, index: usize, message: &'a [u8]) {
        let full = message.len() / 64 * 64;
        let rest = &message[full..];
        self.message = Some(index);
        self.body = &message[..full];
        self.tail = [0; 128];
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail[rest.len()] = 0x80;
        self.tail_len = if rest.len() < 56 { 64 } else { 128 };
        let bits = (message.len() as u64).wrapping_mul(8);
        self.tail[self.tail_len - 8..self.tail_len].copy_from_slice(&bits.to_le_bytes());
        self.tail_pos = 0;
    }

    /// The lane's next block (the idle block when idle).
    fn block(&self) -> &[u8] {
        match self.message {
            None => &IDLE,
            Some(_) if !self.body.is_empty() => &self.body[..64],
            Some(_) => &self.tail[self.tail_pos..self.tail_pos + 64],
        }
    }

    /// Moves past the block [`block`](Self::block) gave; `true` when the message is done.
    fn advance(&mut self) -> bool {
        if self.body.is_empty() {
            self.tail_pos += 64;
            self.tail_pos == self.tail_len
        } else {
            self.body = &self.body[64..];
            false
        }
    }
}

fn set_iv(state: &mut [V; 4], lane: usize) {
    for (word, iv) in state.iter_mut().zip(IV) {
        word[lane] = iv;
    }
}

fn digest_of(state: &[V; 4], lane: usize) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word[lane].to_le_bytes());
    }
    out
}

/// Compiles a kernel once per instruction set (AVX-512 and AVX2 on x86_64, chosen at run time;
/// NEON on aarch64) beside the portable build.
///
/// Built with `--cfg kstream_md5x_static`, the choice is made when compiling, from the target
/// features enabled then (`-C target-feature=+avx2`, or none for the portable build): that is how
/// the test tier `scripts/test-arch.sh` runs the kernels this machine's CPU would not be given.
macro_rules! lane_kernel {
    ($kernel:item) => {
        #[cfg_attr(
            not(kstream_md5x_static),
            multiversion(targets(
                "x86_64+avx512f+avx512vl+avx512bw",
                "x86_64+avx2",
                "aarch64+neon"
            ))
        )]
        #[cfg_attr(
            kstream_md5x_static,
            multiversion(
                targets("x86_64+avx512f+avx512vl+avx512bw", "x86_64+avx2", "aarch64+neon"),
                dispatcher = "static"
            )
        )]
        $kernel
    };
}

/// The instruction set [`digest_many`] runs with on this machine: `avx512`, `avx2`, `neon` or
/// `portable`.
pub fn kernel() -> &'static str {
    kernel_name()
}

lane_kernel! {
    // In each clone the conditions are constants (the clone's own target features).
    #[allow(clippy::ifs_same_cond)]
    fn kernel_name() -> &'static str {
        if target_cfg_f!(all(target_arch = "x86_64", target_feature = "avx512bw")) {
            "avx512"
        } else if target_cfg_f!(all(target_arch = "x86_64", target_feature = "avx2")) {
            "avx2"
        } else if target_cfg_f!(all(target_arch = "aarch64", target_feature = "neon")) {
            "neon"
        } else {
            "portable"
        }
    }
}

lane_kernel! {
    /// Digests `blocks` blocks in every lane: lane `l` reads block `b` at `sources[l][b * strides[l]..]`
    /// (stride 64 walks a message, 0 repeats one block).
    fn compress_run(
        state: &mut [V; 4],
        sources: &[&[u8]; LANES],
        strides: &[usize; LANES],
        blocks: usize,
    ) {
        let mut m: [V; 16] = [[0; LANES]; 16];
        for b in 0..blocks {
            for l in 0..LANES {
                let at = b * strides[l];
                let block: &[u8; 64] = sources[l][at..at + 64]
                    .try_into()
                    .expect("a lane's source holds its blocks");
                for (w, word) in block.chunks_exact(4).enumerate() {
                    m[w][l] = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
                }
            }
            compress(state, &m);
        }
    }
}

#[inline(always)]
fn f(b: u32, c: u32, d: u32) -> u32 {
    d ^ (b & (c ^ d))
}

#[inline(always)]
fn g(b: u32, c: u32, d: u32) -> u32 {
    c ^ (d & (b ^ c))
}

#[inline(always)]
fn h(b: u32, c: u32, d: u32) -> u32 {
    b ^ c ^ d
}

#[inline(always)]
fn i(b: u32, c: u32, d: u32) -> u32 {
    c ^ (b | !d)
}

/// One MD5 step in every lane: `b + ((a + fun(b, c, d) + k + m) <<< s)`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn step(a: V, b: V, c: V, d: V, m: &V, k: u32, s: u32, fun: impl Fn(u32, u32, u32) -> u32) -> V {
    let mut out = [0; LANES];
    for l in 0..LANES {
        out[l] = b[l].wrapping_add(
            a[l].wrapping_add(fun(b[l], c[l], d[l]))
                .wrapping_add(k)
                .wrapping_add(m[l])
                .rotate_left(s),
        );
    }
    out
}

/// The MD5 compression function (RFC 1321 §3.4) in every lane.
#[inline(always)]
fn compress(state: &mut [V; 4], m: &[V; 16]) {
    let [mut a, mut b, mut c, mut d] = *state;
    a = step(a, b, c, d, &m[0], 0xd76aa478, 7, f);
    d = step(d, a, b, c, &m[1], 0xe8c7b756, 12, f);
    c = step(c, d, a, b, &m[2], 0x242070db, 17, f);
    b = step(b, c, d, a, &m[3], 0xc1bdceee, 22, f);
    a = step(a, b, c, d, &m[4], 0xf57c0faf, 7, f);
    d = step(d, a, b, c, &m[5], 0x4787c62a, 12, f);
    c = step(c, d, a, b, &m[6], 0xa8304613, 17, f);
    b = step(b, c, d, a, &m[7], 0xfd469501, 22, f);
    a = step(a, b, c, d, &m[8], 0x698098d8, 7, f);
    d = step(d, a, b, c, &m[9], 0x8b44f7af, 12, f);
    c = step(c, d, a, b, &m[10], 0xffff5bb1, 17, f);
    b = step(b, c, d, a, &m[11], 0x895cd7be, 22, f);
    a = step(a, b, c, d, &m[12], 0x6b901122, 7, f);
    d = step(d, a, b, c, &m[13], 0xfd987193, 12, f);
    c = step(c, d, a, b, &m[14], 0xa679438e, 17, f);
    b = step(b, c, d, a, &m[15], 0x49b40821, 22, f);
    a = step(a, b, c, d, &m[1], 0xf61e2562, 5, g);
    d = step(d, a, b, c, &m[6], 0xc040b340, 9, g);
    c = step(c, d, a, b, &m[11], 0x265e5a51, 14, g);
    b = step(b, c, d, a, &m[0], 0xe9b6c7aa, 20, g);
    a = step(a, b, c, d, &m[5], 0xd62f105d, 5, g);
    d = step(d, a, b, c, &m[10], 0x02441453, 9, g);
    c = step(c, d, a, b, &m[15], 0xd8a1e681, 14, g);
    b = step(b, c, d, a, &m[4], 0xe7d3fbc8, 20, g);
    a = step(a, b, c, d, &m[9], 0x21e1cde6, 5, g);
    d = step(d, a, b, c, &m[14], 0xc33707d6, 9, g);
    c = step(c, d, a, b, &m[3], 0xf4d50d87, 14, g);
    b = step(b, c, d, a, &m[8], 0x455a14ed, 20, g);
    a = step(a, b, c, d, &m[13], 0xa9e3e905, 5, g);
    d = step(d, a, b, c, &m[2], 0xfcefa3f8, 9, g);
    c = step(c, d, a, b, &m[7], 0x676f02d9, 14, g);
    b = step(b, c, d, a, &m[12], 0x8d2a4c8a, 20, g);
    a = step(a, b, c, d, &m[5], 0xfffa3942, 4, h);
    d = step(d, a, b, c, &m[8], 0x8771f681, 11, h);
    c = step(c, d, a, b, &m[11], 0x6d9d6122, 16, h);
    b = step(b, c, d, a, &m[14], 0xfde5380c, 23, h);
    a = step(a, b, c, d, &m[1], 0xa4beea44, 4, h);
    d = step(d, a, b, c, &m[4], 0x4bdecfa9, 11, h);
    c = step(c, d, a, b, &m[7], 0xf6bb4b60, 16, h);
    b = step(b, c, d, a, &m[10], 0xbebfbc70, 23, h);
    a = step(a, b, c, d, &m[13], 0x289b7ec6, 4, h);
    d = step(d, a, b, c, &m[0], 0xeaa127fa, 11, h);
    c = step(c, d, a, b, &m[3], 0xd4ef3085, 16, h);
    b = step(b, c, d, a, &m[6], 0x04881d05, 23, h);
    a = step(a, b, c, d, &m[9], 0xd9d4d039, 4, h);
    d = step(d, a, b, c, &m[12], 0xe6db99e5, 11, h);
    c = step(c, d, a, b, &m[15], 0x1fa27cf8, 16, h);
    b = step(b, c, d, a, &m[2], 0xc4ac5665, 23, h);
    a = step(a, b, c, d, &m[0], 0xf4292244, 6, i);
    d = step(d, a, b, c, &m[7], 0x432aff97, 10, i);
    c = step(c, d, a, b, &m[14], 0xab9423a7, 15, i);
    b = step(b, c, d, a, &m[5], 0xfc93a039, 21, i);
    a = step(a, b, c, d, &m[12], 0x655b59c3, 6, i);
    d = step(d, a, b, c, &m[3], 0x8f0ccc92, 10, i);
    c = step(c, d, a, b, &m[10], 0xffeff47d, 15, i);
    b = step(b, c, d, a, &m[1], 0x85845dd1, 21, i);
    a = step(a, b, c, d, &m[8], 0x6fa87e4f, 6, i);
    d = step(d, a, b, c, &m[15], 0xfe2ce6e0, 10, i);
    c = step(c, d, a, b, &m[6], 0xa3014314, 15, i);
    b = step(b, c, d, a, &m[13], 0x4e0811a1, 21, i);
    a = step(a, b, c, d, &m[4], 0xf7537e82, 6, i);
    d = step(d, a, b, c, &m[11], 0xbd3af235, 10, i);
    c = step(c, d, a, b, &m[2], 0x2ad7d2bb, 15, i);
    b = step(b, c, d, a, &m[9], 0xeb86d391, 21, i);
    for (word, new) in state.iter_mut().zip([a, b, c, d]) {
        for l in 0..LANES {
            word[l] = word[l].wrapping_add(new[l]);
        }
    }
}
