//! SM3 (GB/T 32905) and HMAC-SM3.

use hmac::{KeyInit, Mac};
use sm3::{Digest, Sm3};

type HmacSm3 = hmac::Hmac<Sm3>;

/// SM3 digest of `data`.
pub fn sm3(data: &[u8]) -> [u8; 32] {
    let out = Sm3::digest(data);
    let mut buf = [0u8; 32];
    buf.copy_from_slice(&out);
    buf
}

/// SM3 digest of `data`, lowercase hex.
pub fn sm3_hex(data: &[u8]) -> String {
    hex::encode(sm3(data))
}

/// HMAC-SM3 of `data` under `key` (any key length; HMAC hashes long keys).
pub fn hmac_sm3(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of every length, so `new_from_slice` cannot fail here; the fallback keeps
    // the function total without a panic path.
    let mut mac = match HmacSm3::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0u8; 32],
    };
    mac.update(data);
    let tag = mac.finalize().into_bytes();
    let mut buf = [0u8; 32];
    buf.copy_from_slice(&tag);
    buf
}

/// Checks an HMAC-SM3 tag in constant time.
pub fn hmac_sm3_verify(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    let Ok(mut mac) = HmacSm3::new_from_slice(key) else {
        return false;
    };
    mac.update(data);
    mac.verify_slice(tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_differs_by_key_and_verifies() {
        let a = hmac_sm3(b"key-one", b"payload");
        let b = hmac_sm3(b"key-two", b"payload");
        assert_ne!(a, b);
        assert!(hmac_sm3_verify(b"key-one", b"payload", &a));
        assert!(!hmac_sm3_verify(b"key-one", b"payload", &b));
        assert!(!hmac_sm3_verify(b"key-one", b"payload", &a[..31]));
    }

    #[test]
    fn hmac_matches_rfc2104_construction() {
        // HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)) with a 64-byte SM3 block.
        let key = b"zhiban";
        let mut k = [0u8; 64];
        k[..key.len()].copy_from_slice(key);
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = sm3(&[ipad.as_slice(), b"message"].concat());
        let outer = sm3(&[opad.as_slice(), &inner].concat());
        assert_eq!(hmac_sm3(key, b"message"), outer);
    }
}
