//! HMAC-SM3 request signatures between zhiban and line systems, with a replay window.
//!
//! The signed string is `METHOD \n PATH \n TIMESTAMP \n NONCE \n hex(SM3(body))`. A receiver
//! accepts a request once: the timestamp must be within the skew window and the nonce must not
//! have been seen inside that window.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::crypto::{hmac_sm3, hmac_sm3_verify, random_bytes, sm3_hex};
use crate::error::{Error, Result};

/// Header carrying the Unix timestamp (seconds).
pub const HEADER_TIMESTAMP: &str = "X-Zhiban-Timestamp";
/// Header carrying the nonce.
pub const HEADER_NONCE: &str = "X-Zhiban-Nonce";
/// Header carrying the hex HMAC-SM3 signature.
pub const HEADER_SIGNATURE: &str = "X-Zhiban-Signature";

/// The values a signed request carries in its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSignature {
    /// Unix seconds.
    pub timestamp: i64,
    /// Random nonce (32 hex digits when we generate it).
    pub nonce: String,
    /// Lowercase hex HMAC-SM3 (64 digits).
    pub signature: String,
}

/// The exact string that is MACed.
///
/// # Errors
/// [`Error::BadRequestSignatureInput`] if a field contains a newline (it would make the
/// canonical form ambiguous) or the nonce is empty.
pub fn canonical_request(
    method: &str,
    path: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Result<String> {
    if nonce.is_empty() || nonce.len() > 128 {
        return Err(Error::BadRequestSignatureInput(
            "nonce 不能为空且不超过 128 字符",
        ));
    }
    if [method, path, nonce]
        .iter()
        .any(|f| f.contains('\n') || f.contains('\r'))
    {
        return Err(Error::BadRequestSignatureInput("字段中不能含换行"));
    }
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path,
        timestamp,
        nonce,
        sm3_hex(body)
    ))
}

/// Signs a request with an explicit timestamp and nonce; returns the hex signature.
///
/// # Errors
/// As [`canonical_request`].
pub fn sign_request(
    key: &[u8],
    method: &str,
    path: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Result<String> {
    let canonical = canonical_request(method, path, timestamp, nonce, body)?;
    Ok(hex::encode(hmac_sm3(key, canonical.as_bytes())))
}

/// Signs a request now with a fresh random nonce.
///
/// # Errors
/// [`Error::Rng`].
pub fn sign_request_now(
    key: &[u8],
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<RequestSignature> {
    let mut n = [0u8; 16];
    random_bytes(&mut n)?;
    let nonce = hex::encode(n);
    let timestamp = chrono::Utc::now().timestamp();
    let signature = sign_request(key, method, path, timestamp, &nonce, body)?;
    Ok(RequestSignature {
        timestamp,
        nonce,
        signature,
    })
}

/// Remembers nonces seen inside the window so a captured request cannot be replayed.
#[derive(Debug)]
pub struct ReplayGuard {
    window_secs: i64,
    max_nonces: usize,
    seen: Mutex<HashMap<String, i64>>,
}

impl ReplayGuard {
    /// A guard accepting timestamps within ±`window_secs` of now (300 is common).
    pub fn new(window_secs: i64) -> Self {
        Self {
            window_secs: window_secs.max(1),
            max_nonces: 1_000_000,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The skew window in seconds.
    pub fn window_secs(&self) -> i64 {
        self.window_secs
    }

    /// Verifies a request against `now` (Unix seconds): timestamp in window, signature
    /// correct (constant-time), nonce unused. The nonce is recorded only after the signature
    /// checks out, so forged requests cannot fill the cache.
    ///
    /// # Errors
    /// [`Error::StaleTimestamp`], [`Error::SignatureMismatch`], [`Error::Replay`],
    /// [`Error::BadRequestSignatureInput`], [`Error::Poisoned`].
    #[allow(clippy::too_many_arguments)]
    pub fn verify_at(
        &self,
        key: &[u8],
        method: &str,
        path: &str,
        sig: &RequestSignature,
        body: &[u8],
        now: i64,
    ) -> Result<()> {
        let skew = now.saturating_sub(sig.timestamp);
        if skew.abs() > self.window_secs {
            return Err(Error::StaleTimestamp {
                skew_secs: skew,
                window_secs: self.window_secs,
            });
        }
        let canonical = canonical_request(method, path, sig.timestamp, &sig.nonce, body)?;
        let tag = hex::decode(sig.signature.trim()).map_err(|_| Error::SignatureMismatch)?;
        if !hmac_sm3_verify(key, canonical.as_bytes(), &tag) {
            return Err(Error::SignatureMismatch);
        }
        let mut seen = self.seen.lock().map_err(|_| Error::Poisoned)?;
        // Anything older than the window can no longer pass the timestamp check: forget it.
        if seen.len() >= self.max_nonces / 2 {
            let horizon = now - 2 * self.window_secs;
            seen.retain(|_, ts| *ts >= horizon);
        }
        if seen.contains_key(&sig.nonce) {
            return Err(Error::Replay);
        }
        if seen.len() >= self.max_nonces {
            // Still full of live nonces: refuse rather than forget one that could be replayed.
            return Err(Error::Replay);
        }
        seen.insert(sig.nonce.clone(), sig.timestamp);
        Ok(())
    }
}

/// Verifies a request at the current time (see [`ReplayGuard::verify_at`]).
///
/// # Errors
/// As [`ReplayGuard::verify_at`].
pub fn verify_request(
    guard: &ReplayGuard,
    key: &[u8],
    method: &str,
    path: &str,
    sig: &RequestSignature,
    body: &[u8],
) -> Result<()> {
    guard.verify_at(key, method, path, sig, body, chrono::Utc::now().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"shared-secret-with-line-system";

    #[test]
    fn accepts_once_then_rejects_replay() {
        let guard = ReplayGuard::new(300);
        let sig = sign_request_now(KEY, "post", "/api/submit", b"{\"a\":1}").unwrap();
        assert_eq!(sig.signature.len(), 64);
        verify_request(&guard, KEY, "POST", "/api/submit", &sig, b"{\"a\":1}").unwrap();
        assert!(matches!(
            verify_request(&guard, KEY, "POST", "/api/submit", &sig, b"{\"a\":1}"),
            Err(Error::Replay)
        ));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let guard = ReplayGuard::new(300);
        let now = 1_800_000_000;
        let sig = RequestSignature {
            timestamp: now,
            nonce: "n-1".into(),
            signature: sign_request(KEY, "POST", "/p", now, "n-1", b"body").unwrap(),
        };
        let mismatch = |method: &str, path: &str, body: &[u8], s: &RequestSignature, key: &[u8]| {
            matches!(
                guard.verify_at(key, method, path, s, body, now),
                Err(Error::SignatureMismatch)
            )
        };
        assert!(mismatch("GET", "/p", b"body", &sig, KEY));
        assert!(mismatch("POST", "/q", b"body", &sig, KEY));
        assert!(mismatch("POST", "/p", b"bodY", &sig, KEY));
        assert!(mismatch("POST", "/p", b"body", &sig, b"other key"));
        let mut other_nonce = sig.clone();
        other_nonce.nonce = "n-2".into();
        assert!(mismatch("POST", "/p", b"body", &other_nonce, KEY));
        let mut other_ts = sig.clone();
        other_ts.timestamp += 1;
        assert!(mismatch("POST", "/p", b"body", &other_ts, KEY));
        // Failed attempts did not burn the nonce.
        guard
            .verify_at(KEY, "POST", "/p", &sig, b"body", now)
            .unwrap();
    }

    #[test]
    fn timestamp_window_is_enforced_both_ways() {
        let guard = ReplayGuard::new(60);
        let now = 1_800_000_000;
        for (ts, ok) in [
            (now - 60, true),
            (now + 60, true),
            (now - 61, false),
            (now + 61, false),
        ] {
            let nonce = format!("n{ts}");
            let s = RequestSignature {
                timestamp: ts,
                nonce: nonce.clone(),
                signature: sign_request(KEY, "GET", "/", ts, &nonce, b"").unwrap(),
            };
            let r = guard.verify_at(KEY, "GET", "/", &s, b"", now);
            assert_eq!(r.is_ok(), ok, "{ts}: {r:?}");
            if !ok {
                assert!(matches!(r, Err(Error::StaleTimestamp { .. })));
            }
        }
    }

    #[test]
    fn newline_injection_is_refused() {
        assert!(matches!(
            sign_request(KEY, "GET", "/a\n1", 1, "n", b""),
            Err(Error::BadRequestSignatureInput(_))
        ));
        assert!(matches!(
            sign_request(KEY, "GET", "/a", 1, "", b""),
            Err(Error::BadRequestSignatureInput(_))
        ));
    }
}
