//! The embedded default reads `ZHIBAN_PII__KEYRING` before touching the disk. Global state
//! (the process environment), so it lives alone in its own test binary.

use zhiban_pii::{KEYRING_ENV, KEYRING_FILE_NAME, KeyProvider, Keyring, KeyringOrigin};

#[test]
fn environment_wins_over_the_local_file_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: this is the only test in this binary, so no other thread reads the environment.
    unsafe {
        std::env::set_var(
            KEYRING_ENV,
            "1:00112233445566778899aabbccddeeff,2:ffeeddccbbaa99887766554433221100",
        );
    }
    let (ring, origin) = Keyring::load_or_create(dir.path()).unwrap();
    assert_eq!(origin, KeyringOrigin::Environment);
    assert_eq!(ring.current_version(), 2);
    assert!(!dir.path().join(KEYRING_FILE_NAME).exists());

    // SAFETY: as above.
    unsafe {
        std::env::set_var(KEYRING_ENV, "2:not-hex");
    }
    assert!(
        matches!(
            Keyring::load_or_create(dir.path()),
            Err(zhiban_pii::Error::KeyringFormat { .. })
        ),
        "a bad variable must not fall back silently"
    );

    // SAFETY: as above.
    unsafe {
        std::env::remove_var(KEYRING_ENV);
    }
    let (_, origin) = Keyring::load_or_create(dir.path()).unwrap();
    assert_eq!(
        origin,
        KeyringOrigin::Created(dir.path().join(KEYRING_FILE_NAME))
    );
}
