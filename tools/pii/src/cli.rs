//! Small pure functions behind `zhiban crypto …`: hex in, hex out, with the usual defaults
//! (user id `1234567812345678`, C1C3C2, PKCS#7). The CLI only parses arguments and prints.

use serde::Serialize;

use crate::crypto::{
    self, DEFAULT_USER_ID, Padding, SelfTestReport, Sm2CipherFormat, Sm2PrivateKey, Sm2PublicKey,
    Sm4Mode, decode_hex,
};
use crate::error::{Error, Result};

/// SM3 of hex input, as hex.
///
/// # Errors
/// [`Error::BadHex`].
pub fn sm3_hex(data_hex: &str) -> Result<String> {
    Ok(crypto::sm3_hex(&decode_hex("数据", data_hex)?))
}

/// SM3 of UTF-8 text, as hex (for `--text` input).
pub fn sm3_text(text: &str) -> String {
    crypto::sm3_hex(text.as_bytes())
}

/// Arguments of `zhiban crypto sm4 encrypt|decrypt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sm4Args<'a> {
    /// ECB, CBC or GCM.
    pub mode: Sm4Mode,
    /// 16-byte key, hex.
    pub key_hex: &'a str,
    /// CBC: 16-byte IV; GCM: 12-byte nonce; ECB: must be absent.
    pub iv_hex: Option<&'a str>,
    /// GCM additional data, hex (empty if absent).
    pub aad_hex: Option<&'a str>,
    /// ECB/CBC padding (PKCS#7 by default).
    pub padding: Padding,
    /// Plaintext (encrypt) or ciphertext (decrypt; GCM: ciphertext || tag), hex.
    pub data_hex: &'a str,
}

fn iv(args: &Sm4Args<'_>) -> Result<Vec<u8>> {
    match (args.mode, args.iv_hex) {
        (Sm4Mode::Ecb, None) => Ok(Vec::new()),
        (Sm4Mode::Ecb, Some(_)) => Err(Error::BadArgument("ECB 模式不使用 IV，请去掉 --iv")),
        (Sm4Mode::Cbc, None) => Err(Error::BadArgument("CBC 模式需要 16 字节的 IV（--iv）")),
        (Sm4Mode::Gcm, None) => Err(Error::BadArgument("GCM 模式需要 12 字节的 nonce（--iv）")),
        (_, Some(h)) => decode_hex("IV/nonce", h),
    }
}

/// SM4 encryption; GCM output is ciphertext || 16-byte tag.
///
/// # Errors
/// [`Error::BadHex`], [`Error::BadLength`].
pub fn sm4_encrypt_hex(args: &Sm4Args<'_>) -> Result<String> {
    let key = zeroize::Zeroizing::new(decode_hex("SM4 密钥", args.key_hex)?);
    let data = zeroize::Zeroizing::new(decode_hex("数据", args.data_hex)?);
    let iv = iv(args)?;
    let out = match args.mode {
        Sm4Mode::Ecb => crypto::sm4_ecb_encrypt(&key, &data, args.padding)?,
        Sm4Mode::Cbc => crypto::sm4_cbc_encrypt(&key, &iv, &data, args.padding)?,
        Sm4Mode::Gcm => {
            let aad = decode_hex("AAD", args.aad_hex.unwrap_or(""))?;
            crypto::sm4_gcm_encrypt(&key, &iv, &aad, &data)?
        }
    };
    Ok(hex::encode(out))
}

/// SM4 decryption.
///
/// # Errors
/// [`Error::BadHex`], [`Error::BadLength`], [`Error::Decrypt`].
pub fn sm4_decrypt_hex(args: &Sm4Args<'_>) -> Result<String> {
    let key = zeroize::Zeroizing::new(decode_hex("SM4 密钥", args.key_hex)?);
    let data = decode_hex("密文", args.data_hex)?;
    let iv = iv(args)?;
    let out = match args.mode {
        Sm4Mode::Ecb => crypto::sm4_ecb_decrypt(&key, &data, args.padding)?,
        Sm4Mode::Cbc => crypto::sm4_cbc_decrypt(&key, &iv, &data, args.padding)?,
        Sm4Mode::Gcm => {
            let aad = decode_hex("AAD", args.aad_hex.unwrap_or(""))?;
            crypto::sm4_gcm_decrypt(&key, &iv, &aad, &data)?
        }
    };
    Ok(hex::encode(out.as_slice()))
}

/// A generated SM2 key pair in hex.
#[derive(Serialize)]
pub struct Sm2KeyPairHex {
    /// 64 hex digits (secret!).
    pub private_key: String,
    /// `04||x||y`, 130 hex digits.
    pub public_key: String,
    /// `x||y`, 128 hex digits (npm sm-crypto form).
    pub public_key_no_prefix: String,
}

impl std::fmt::Debug for Sm2KeyPairHex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sm2KeyPairHex")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// Generates an SM2 key pair.
///
/// # Errors
/// [`Error::Rng`].
pub fn sm2_keygen_hex() -> Result<Sm2KeyPairHex> {
    let sk = Sm2PrivateKey::generate()?;
    let pk = sk.public_key();
    Ok(Sm2KeyPairHex {
        private_key: sk.to_hex().to_string(),
        public_key: pk.to_hex(),
        public_key_no_prefix: pk.to_hex_no_prefix(),
    })
}

/// Signs hex data; returns `r||s` hex (or DER hex with `der`). `user_id` defaults to
/// [`DEFAULT_USER_ID`].
///
/// # Errors
/// [`Error::BadHex`], [`Error::BadLength`], [`Error::BadKey`].
pub fn sm2_sign_hex(
    private_hex: &str,
    data_hex: &str,
    user_id: Option<&str>,
    der: bool,
) -> Result<String> {
    let sk = Sm2PrivateKey::from_hex(private_hex)?;
    let data = decode_hex("数据", data_hex)?;
    let sig = crypto::sm2_sign(&sk, user_id.unwrap_or(DEFAULT_USER_ID), &data)?;
    if der {
        Ok(hex::encode(crypto::sm2_signature_to_der(&sig)?))
    } else {
        Ok(hex::encode(sig))
    }
}

/// Verifies a signature (raw `r||s` or DER, hex) over hex data.
///
/// # Errors
/// [`Error::BadHex`], [`Error::BadKey`], [`Error::BadSignatureFormat`].
pub fn sm2_verify_hex(
    public_hex: &str,
    data_hex: &str,
    signature_hex: &str,
    user_id: Option<&str>,
) -> Result<bool> {
    let pk = Sm2PublicKey::from_hex(public_hex)?;
    let data = decode_hex("数据", data_hex)?;
    let sig = decode_hex("签名", signature_hex)?;
    crypto::sm2_verify(&pk, user_id.unwrap_or(DEFAULT_USER_ID), &data, &sig)
}

/// Encrypts hex data to a public key; `format` defaults to C1C3C2.
///
/// # Errors
/// [`Error::BadHex`], [`Error::BadKey`], [`Error::Encrypt`].
pub fn sm2_encrypt_hex(
    public_hex: &str,
    data_hex: &str,
    format: Option<Sm2CipherFormat>,
) -> Result<String> {
    let pk = Sm2PublicKey::from_hex(public_hex)?;
    let data = zeroize::Zeroizing::new(decode_hex("数据", data_hex)?);
    Ok(hex::encode(crypto::sm2_encrypt(
        &pk,
        &data,
        format.unwrap_or_default(),
    )?))
}

/// Decrypts hex ciphertext; with `format = None` the layout is detected (C3 always checked).
///
/// # Errors
/// [`Error::BadHex`], [`Error::BadKey`], [`Error::Decrypt`].
pub fn sm2_decrypt_hex(
    private_hex: &str,
    cipher_hex: &str,
    format: Option<Sm2CipherFormat>,
) -> Result<String> {
    let sk = Sm2PrivateKey::from_hex(private_hex)?;
    let ct = decode_hex("密文", cipher_hex)?;
    let pt = match format {
        Some(f) => crypto::sm2_decrypt_as(&sk, &ct, f)?,
        None => crypto::sm2_decrypt(&sk, &ct)?,
    };
    Ok(hex::encode(pt.as_slice()))
}

/// The self-test report (pass or fail) for printing as JSON.
pub fn selftest_report() -> SelfTestReport {
    crypto::selftest_report()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm4_hex_round_trips_in_every_mode() {
        let key = "0123456789abcdeffedcba9876543210";
        for (mode, iv) in [
            (Sm4Mode::Ecb, None),
            (Sm4Mode::Cbc, Some("000102030405060708090a0b0c0d0e0f")),
            (Sm4Mode::Gcm, Some("00001234567800000000abcd")),
        ] {
            let mut args = Sm4Args {
                mode,
                key_hex: key,
                iv_hex: iv,
                aad_hex: Some("feed"),
                padding: Padding::Pkcs7,
                data_hex: "e5bca0e4b889",
            };
            let ct = sm4_encrypt_hex(&args).unwrap();
            args.data_hex = &ct;
            assert_eq!(sm4_decrypt_hex(&args).unwrap(), "e5bca0e4b889", "{mode:?}");
        }
    }

    #[test]
    fn sm4_hex_errors_say_what_is_wrong() {
        let args = Sm4Args {
            mode: Sm4Mode::Cbc,
            key_hex: "0011",
            iv_hex: Some("000102030405060708090a0b0c0d0e0f"),
            aad_hex: None,
            padding: Padding::Pkcs7,
            data_hex: "00",
        };
        let err = sm4_encrypt_hex(&args).unwrap_err().to_string();
        assert!(err.contains("SM4 密钥") && err.contains("2 字节"), "{err}");
        let err = sm4_encrypt_hex(&Sm4Args {
            key_hex: "0123456789abcdeffedcba9876543210",
            iv_hex: None,
            ..args.clone()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("IV"), "{err}");
        let err = sm4_encrypt_hex(&Sm4Args {
            data_hex: "xyz",
            ..args
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("十六进制") || err.contains("长度"), "{err}");
    }

    #[test]
    fn sm2_hex_flow() {
        let kp = sm2_keygen_hex().unwrap();
        assert_eq!(kp.public_key.len(), 130);
        let sig = sm2_sign_hex(&kp.private_key, "616263", None, false).unwrap();
        assert!(sm2_verify_hex(&kp.public_key, "616263", &sig, None).unwrap());
        assert!(!sm2_verify_hex(&kp.public_key, "616264", &sig, None).unwrap());
        let der = sm2_sign_hex(&kp.private_key, "616263", Some("ALICE"), true).unwrap();
        assert!(sm2_verify_hex(&kp.public_key_no_prefix, "616263", &der, Some("ALICE")).unwrap());
        let ct = sm2_encrypt_hex(&kp.public_key, "616263", None).unwrap();
        assert!(ct.starts_with("04"));
        assert_eq!(
            sm2_decrypt_hex(&kp.private_key, &ct, None).unwrap(),
            "616263"
        );
        assert_eq!(
            sm2_decrypt_hex(&kp.private_key, &ct, Some(Sm2CipherFormat::C1C3C2)).unwrap(),
            "616263"
        );
        assert!(!format!("{kp:?}").contains(&kp.private_key));
    }
}
