//! Known-answer tests that are too slow for the start-up self-test.

use zhiban_pii::crypto::{Padding, sm4_ecb_encrypt};

/// GB/T 32907-2016 Annex A example 2: encrypting the plaintext 1,000,000 times with the same key.
#[test]
fn sm4_one_million_iterations() {
    let key = hex::decode("0123456789abcdeffedcba9876543210").unwrap();
    let mut block = key.clone();
    for _ in 0..1_000_000 {
        block = sm4_ecb_encrypt(&key, &block, Padding::None).unwrap();
    }
    assert_eq!(hex::encode(block), "595298c7c6fd271f0402f804c33d3f66");
}

#[test]
fn startup_selftest_passes() {
    let report = zhiban_pii::selftest().unwrap();
    assert!(report.passed);
    let names: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "sm3-abc",
            "sm3-512bit",
            "sm4-block",
            "sm2-sign",
            "sm2-encrypt",
            "sm4-gcm"
        ]
    );
}
