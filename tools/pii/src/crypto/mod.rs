//! SM2 / SM3 / SM4 primitives on the RustCrypto crates, plus the known-answer self-test.
//!
//! Everything here is synchronous and stateless; decrypted plaintext is returned in
//! [`zeroize::Zeroizing`] buffers so it is wiped when dropped.

mod hash;
mod selftest;
mod sm2;
mod sm4;

pub use self::hash::{hmac_sm3, hmac_sm3_verify, sm3, sm3_hex};
pub use self::selftest::{SelfTestCheck, SelfTestReport, selftest, selftest_report};
pub use self::sm2::{
    DEFAULT_USER_ID, Sm2CipherFormat, Sm2PrivateKey, Sm2PublicKey, sm2_decrypt, sm2_decrypt_as,
    sm2_encrypt, sm2_sign, sm2_signature_to_der, sm2_verify,
};
pub use self::sm4::{
    Padding, Sm4Mode, sm4_cbc_decrypt, sm4_cbc_encrypt, sm4_ecb_decrypt, sm4_ecb_encrypt,
    sm4_encrypt_block, sm4_gcm_decrypt, sm4_gcm_encrypt,
};

pub(crate) use self::sm4::{Sm4Gcm, gcm_open, gcm_seal};

use crate::error::{Error, Result};

/// Fills `buf` from the operating system's CSPRNG.
///
/// # Errors
/// [`Error::Rng`] if the OS refuses.
pub fn random_bytes(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|_| Error::Rng)
}

/// Decodes hex leniently: surrounding whitespace, inner whitespace/colons and a `0x` prefix are
/// dropped, upper and lower case both accepted (partners paste hex from many tools).
///
/// # Errors
/// [`Error::BadHex`] naming `field`.
pub fn decode_hex(field: &'static str, input: &str) -> Result<Vec<u8>> {
    let trimmed = input.trim();
    let trimmed = trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
        .unwrap_or(trimmed);
    let cleaned: String = trimmed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if !cleaned.len().is_multiple_of(2) {
        return Err(Error::BadHex {
            field,
            reason: format!("长度为奇数（{} 个字符）", cleaned.len()),
        });
    }
    hex::decode(&cleaned).map_err(|e| Error::BadHex {
        field,
        reason: match e {
            hex::FromHexError::InvalidHexCharacter { c, index } => {
                format!("第 {} 个字符 '{c}' 不是十六进制数字", index + 1)
            }
            other => other.to_string(),
        },
    })
}

/// Copies a slice into a fixed-size array or reports the length mismatch.
pub(crate) fn fixed<const N: usize>(
    what: &'static str,
    expected: &'static str,
    bytes: &[u8],
) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| Error::BadLength {
        what,
        expected,
        actual: bytes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lenient_about_formatting_but_not_content() {
        assert_eq!(
            decode_hex("data", " 0xAB cd:01 ").unwrap(),
            vec![0xab, 0xcd, 0x01]
        );
        assert!(matches!(
            decode_hex("key", "abc"),
            Err(Error::BadHex { field: "key", .. })
        ));
        let err = decode_hex("key", "zz").unwrap_err();
        assert!(err.to_string().contains("'z'"), "{err}");
    }
}
