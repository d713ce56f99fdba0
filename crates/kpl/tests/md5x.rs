//! The multi-buffer MD5 against the `md-5` crate and the RFC 1321 test suite.

use kstream_kpl::md5x::{LANES, digest_many};
use md5::{Digest, Md5};
use proptest::prelude::*;

fn reference(messages: &[Vec<u8>]) -> Vec<[u8; 16]> {
    messages.iter().map(|m| Md5::digest(m).into()).collect()
}

fn lanes(messages: &[Vec<u8>]) -> Vec<[u8; 16]> {
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    digest_many(&refs)
}

fn hex(digest: &[u8; 16]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn rfc_1321_test_suite() {
    let suite: [(&str, &str); 7] = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        (
            "abcdefghijklmnopqrstuvwxyz",
            "c3fcd3d76192e4007dfb496cca67e13b",
        ),
        (
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f",
        ),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ];
    let messages: Vec<&[u8]> = suite.iter().map(|(m, _)| m.as_bytes()).collect();
    let digests = digest_many(&messages);
    for ((message, want), got) in suite.iter().zip(&digests) {
        assert_eq!(hex(got), *want, "MD5({message:?})");
    }
    // One at a time too (the scalar path).
    for (message, want) in suite {
        assert_eq!(hex(&digest_many(&[message.as_bytes()])[0]), want);
    }
    assert!(digest_many(&[]).is_empty());
}

#[test]
fn padding_edges_in_every_lane_position() {
    // Lengths around the one-or-two padding blocks boundary, many more messages than lanes so
    // that lanes are refilled at different points.
    let edges = [
        0usize, 1, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 129, 1000,
    ];
    let messages: Vec<Vec<u8>> = (0..5 * LANES + 3)
        .map(|i| {
            let len = edges[i % edges.len()] + 64 * (i / edges.len() % 3);
            (0..len).map(|j| (i * 31 + j * 7) as u8).collect()
        })
        .collect();
    assert_eq!(lanes(&messages), reference(&messages));
}

#[test]
fn one_long_message_among_short_ones() {
    let mut messages: Vec<Vec<u8>> = vec![vec![0xA5; 200 * 1024]];
    messages.extend((0..40).map(|i| vec![i as u8; i * 3]));
    messages.push(vec![7; 51_200]);
    assert_eq!(lanes(&messages), reference(&messages));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn agrees_with_md5_crate(
        messages in prop::collection::vec(
            prop_oneof![
                // Around the padding edges.
                3 => prop::collection::vec(any::<u8>(), 50..130),
                3 => prop::collection::vec(any::<u8>(), 0..2048),
                1 => prop::collection::vec(any::<u8>(), 0..200 * 1024),
            ],
            0..3 * LANES,
        )
    ) {
        prop_assert_eq!(lanes(&messages), reference(&messages));
    }
}

/// `scripts/test-arch.sh` builds this crate once per x86_64 kernel, choosing it when compiling
/// (`--cfg kstream_md5x_static`), and names the one it asked for in `KSTREAM_MD5X_KERNEL`.
#[test]
fn the_kernel_is_the_one_the_build_chose() {
    let kernel = kstream_kpl::md5x::kernel();
    match std::env::var("KSTREAM_MD5X_KERNEL") {
        Ok(want) => assert_eq!(kernel, want),
        Err(_) => assert!(
            ["avx512", "avx2", "neon", "portable"].contains(&kernel),
            "{kernel}"
        ),
    }
}
