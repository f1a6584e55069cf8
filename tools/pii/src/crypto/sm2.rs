//! SM2 (GM/T 0003) signatures and public-key encryption, with the ciphertext layouts partners use.

use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::Generate;
use sm2::elliptic_curve::common::getrandom::SysRng;
use sm2::pke::{DecryptingKey, EncryptingKey, Mode};
use sm2::{PublicKey, SecretKey};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The default distinguishing identifier of GM/T 0009 (used when the partner names none).
pub const DEFAULT_USER_ID: &str = "1234567812345678";

/// How an SM2 ciphertext is laid out on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sm2CipherFormat {
    /// `04 || x1 || y1 || C3 || C2` — GM/T 0003-2012 current order; our default.
    #[default]
    C1C3C2,
    /// `04 || x1 || y1 || C2 || C3` — the pre-2012 order some old systems still send.
    C1C2C3,
    /// GM/T 0009 ASN.1 DER `SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING, ciphertext OCTET STRING }`.
    Der,
    /// npm `sm-crypto` default (`cipherMode = 1`): C1C3C2 without the leading `04`.
    SmCryptoJs,
    /// npm `sm-crypto` with `cipherMode = 0`: C1C2C3 without the leading `04`.
    SmCryptoJsC1C2C3,
}

impl Sm2CipherFormat {
    /// Every layout, in the order automatic detection tries them.
    pub const ALL: [Sm2CipherFormat; 5] = [
        Sm2CipherFormat::C1C3C2,
        Sm2CipherFormat::C1C2C3,
        Sm2CipherFormat::SmCryptoJs,
        Sm2CipherFormat::SmCryptoJsC1C2C3,
        Sm2CipherFormat::Der,
    ];
}

impl std::str::FromStr for Sm2CipherFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "c1c3c2" => Ok(Self::C1C3C2),
            "c1c2c3" => Ok(Self::C1C2C3),
            "der" | "asn1" | "asn.1" => Ok(Self::Der),
            "sm-crypto" | "smcrypto" | "npm" => Ok(Self::SmCryptoJs),
            "sm-crypto-c1c2c3" | "npm-c1c2c3" => Ok(Self::SmCryptoJsC1C2C3),
            other => Err(format!(
                "未知的 SM2 密文格式 {other}，可选 c1c3c2、c1c2c3、der、sm-crypto、sm-crypto-c1c2c3"
            )),
        }
    }
}

/// An SM2 private key. The scalar is wiped on drop; `Debug` never prints it.
#[derive(Clone)]
pub struct Sm2PrivateKey {
    secret: SecretKey,
}

impl std::fmt::Debug for Sm2PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sm2PrivateKey")
            .field("public_key", &self.public_key().to_hex())
            .finish_non_exhaustive()
    }
}

impl Sm2PrivateKey {
    /// Generates a fresh key from the OS random source.
    ///
    /// # Errors
    /// [`Error::Rng`] if the OS random source fails.
    pub fn generate() -> Result<Self> {
        let secret = SecretKey::try_generate_from_rng(&mut SysRng).map_err(|_| Error::Rng)?;
        Ok(Self { secret })
    }

    /// Reads a 32-byte big-endian scalar in `[1, n-1]`.
    ///
    /// # Errors
    /// [`Error::BadLength`] or [`Error::BadKey`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 32 {
            return Err(Error::BadLength {
                what: "SM2 私钥",
                expected: "32 字节",
                actual: bytes.len(),
            });
        }
        let secret = SecretKey::from_slice(bytes)
            .map_err(|_| Error::BadKey("私钥必须在 [1, n-1] 范围内"))?;
        Ok(Self { secret })
    }

    /// Reads a hex private key (64 hex digits; shorter input is left-padded, as sm-crypto does).
    ///
    /// # Errors
    /// [`Error::BadHex`], [`Error::BadLength`] or [`Error::BadKey`].
    pub fn from_hex(hex_key: &str) -> Result<Self> {
        let raw = Zeroizing::new(super::decode_hex("SM2 私钥", hex_key)?);
        if raw.len() > 32 {
            return Err(Error::BadLength {
                what: "SM2 私钥",
                expected: "32 字节",
                actual: raw.len(),
            });
        }
        let mut padded = Zeroizing::new([0u8; 32]);
        padded[32 - raw.len()..].copy_from_slice(&raw);
        Self::from_bytes(padded.as_slice())
    }

    /// The 32-byte scalar.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.secret.to_bytes());
        out
    }

    /// The scalar as 64 lowercase hex digits.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.to_bytes().as_slice()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> Sm2PublicKey {
        Sm2PublicKey {
            key: self.secret.public_key(),
        }
    }

    pub(crate) fn secret(&self) -> &SecretKey {
        &self.secret
    }
}

/// An SM2 public key (a point on the curve).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sm2PublicKey {
    key: PublicKey,
}

impl Sm2PublicKey {
    /// Reads `04||x||y` (65 bytes), `x||y` (64 bytes, the sm-crypto form) or a compressed point.
    ///
    /// # Errors
    /// [`Error::BadLength`] or [`Error::BadKey`] for a point that is not on the curve.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let key = match bytes.len() {
            64 => {
                let mut full = [0u8; 65];
                full[0] = 0x04;
                full[1..].copy_from_slice(bytes);
                PublicKey::from_sec1_bytes(&full)
            }
            65 | 33 => PublicKey::from_sec1_bytes(bytes),
            n => {
                return Err(Error::BadLength {
                    what: "SM2 公钥",
                    expected: "65 字节（04||x||y）、64 字节（x||y）或 33 字节（压缩）",
                    actual: n,
                });
            }
        }
        .map_err(|_| Error::BadKey("公钥不是 SM2 曲线上的有效点"))?;
        Ok(Self { key })
    }

    /// Reads a hex public key in any of the forms [`Sm2PublicKey::from_bytes`] accepts.
    ///
    /// # Errors
    /// As [`Sm2PublicKey::from_bytes`], plus [`Error::BadHex`].
    pub fn from_hex(hex_key: &str) -> Result<Self> {
        Self::from_bytes(&super::decode_hex("SM2 公钥", hex_key)?)
    }

    /// Uncompressed `04||x||y`.
    pub fn to_bytes(&self) -> [u8; 65] {
        use sm2::elliptic_curve::sec1::ToSec1Point;
        let point = self.key.as_affine().to_sec1_point(false);
        let mut out = [0u8; 65];
        // An uncompressed SEC1 point is always 65 bytes for a 256-bit curve.
        if let Ok(bytes) = <[u8; 65]>::try_from(point.as_bytes()) {
            out = bytes;
        }
        out
    }

    /// Uncompressed `04||x||y` in lowercase hex (130 digits).
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_bytes())
    }

    /// `x||y` in lowercase hex (128 digits), the form npm `sm-crypto` prints.
    pub fn to_hex_no_prefix(&self) -> String {
        hex::encode(&self.to_bytes()[1..])
    }

    pub(crate) fn inner(&self) -> &PublicKey {
        &self.key
    }
}

fn check_user_id(user_id: &str) -> Result<()> {
    // ENTL is a 16-bit bit count, so the identifier is at most 8191 bytes.
    if user_id.len() > 8191 {
        return Err(Error::BadLength {
            what: "SM2 用户标识",
            expected: "不超过 8191 字节",
            actual: user_id.len(),
        });
    }
    Ok(())
}

/// Signs `msg` (SM3 with the Z value of `user_id`); returns raw `r || s` (64 bytes).
///
/// The nonce is derived deterministically (RFC 6979 style) by the RustCrypto implementation.
///
/// # Errors
/// [`Error::BadLength`] for an over-long user id; [`Error::BadKey`] if signing fails.
pub fn sm2_sign(key: &Sm2PrivateKey, user_id: &str, msg: &[u8]) -> Result<[u8; 64]> {
    check_user_id(user_id)?;
    let sk =
        SigningKey::new(user_id, key.secret()).map_err(|_| Error::BadKey("无法创建签名密钥"))?;
    let sig: Signature = sk.try_sign(msg).map_err(|_| Error::BadKey("签名失败"))?;
    let mut out = [0u8; 64];
    out.copy_from_slice(&sig.to_bytes());
    Ok(out)
}

/// Re-encodes a raw 64-byte signature as DER (`SEQUENCE { r INTEGER, s INTEGER }`).
///
/// # Errors
/// [`Error::BadSignatureFormat`].
pub fn sm2_signature_to_der(raw: &[u8]) -> Result<Vec<u8>> {
    let sig = Signature::from_slice(raw).map_err(|_| Error::BadSignatureFormat)?;
    Ok(sig.to_der().to_bytes().to_vec())
}

/// Verifies an SM2 signature given as raw `r || s` (64 bytes) or DER.
///
/// Returns `Ok(false)` for a well-formed signature that does not verify.
///
/// # Errors
/// [`Error::BadSignatureFormat`] if the signature is neither form; [`Error::BadLength`] for an
/// over-long user id.
pub fn sm2_verify(key: &Sm2PublicKey, user_id: &str, msg: &[u8], signature: &[u8]) -> Result<bool> {
    check_user_id(user_id)?;
    let sig = if signature.len() == 64 {
        Signature::from_slice(signature)
    } else {
        Signature::from_der(signature)
    }
    .map_err(|_| Error::BadSignatureFormat)?;
    let vk =
        VerifyingKey::new(user_id, *key.inner()).map_err(|_| Error::BadKey("无法创建验签公钥"))?;
    Ok(vk.verify(msg, &sig).is_ok())
}

/// Encrypts `msg` to `key` in the chosen layout.
///
/// # Errors
/// [`Error::Encrypt`] for an empty message (SM2 cannot encrypt zero bytes) or an RNG failure.
pub fn sm2_encrypt(key: &Sm2PublicKey, msg: &[u8], format: Sm2CipherFormat) -> Result<Vec<u8>> {
    encrypt_with_rng(key, msg, format, &mut SysRng)
}

pub(crate) fn encrypt_with_rng<R>(
    key: &Sm2PublicKey,
    msg: &[u8],
    format: Sm2CipherFormat,
    rng: &mut R,
) -> Result<Vec<u8>>
where
    R: sm2::elliptic_curve::rand_core::TryCryptoRng,
{
    if msg.is_empty() {
        return Err(Error::Encrypt("SM2 明文不能为空"));
    }
    let fail = |_| Error::Encrypt("SM2 加密失败");
    let mode = match format {
        Sm2CipherFormat::C1C2C3 | Sm2CipherFormat::SmCryptoJsC1C2C3 => Mode::C1C2C3,
        _ => Mode::C1C3C2,
    };
    let ek = EncryptingKey::new_with_mode(*key.inner(), mode);
    let cipher = ek.encrypt_cipher::<R, sm3::Sm3>(rng, msg).map_err(fail)?;
    match format {
        Sm2CipherFormat::Der => {
            use sm2::pkcs8::der::Encode;
            cipher
                .to_der()
                .map_err(|_| Error::Encrypt("SM2 密文 DER 编码失败"))
        }
        Sm2CipherFormat::C1C3C2 | Sm2CipherFormat::C1C2C3 => {
            cipher.to_vec(mode, false).map_err(fail)
        }
        Sm2CipherFormat::SmCryptoJs | Sm2CipherFormat::SmCryptoJsC1C2C3 => {
            let mut v = cipher.to_vec(mode, false).map_err(fail)?;
            v.remove(0);
            Ok(v)
        }
    }
}

/// Decrypts a ciphertext in any accepted layout (C1C3C2, C1C2C3, DER, sm-crypto without `04`).
///
/// Layouts are tried in turn; each attempt checks C3 = SM3(x2 || M || y2), so a wrong guess
/// cannot yield plaintext (a 256-bit check), and only an authentic ciphertext decrypts.
///
/// # Errors
/// [`Error::Decrypt`] if no layout yields a ciphertext whose C3 checks out.
pub fn sm2_decrypt(key: &Sm2PrivateKey, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let first = ciphertext.first().copied().ok_or(Error::Decrypt)?;
    let order: &[Sm2CipherFormat] = if first == 0x30 {
        &[
            Sm2CipherFormat::Der,
            Sm2CipherFormat::SmCryptoJs,
            Sm2CipherFormat::SmCryptoJsC1C2C3,
        ]
    } else if matches!(first, 0x02..=0x04) {
        &Sm2CipherFormat::ALL
    } else {
        &[
            Sm2CipherFormat::SmCryptoJs,
            Sm2CipherFormat::SmCryptoJsC1C2C3,
        ]
    };
    for format in order {
        if let Ok(pt) = sm2_decrypt_as(key, ciphertext, *format) {
            return Ok(pt);
        }
    }
    Err(Error::Decrypt)
}

/// Decrypts a ciphertext in one named layout; C3 is always checked.
///
/// # Errors
/// [`Error::Decrypt`] for a malformed ciphertext, an off-curve C1, or a C3 mismatch.
pub fn sm2_decrypt_as(
    key: &Sm2PrivateKey,
    ciphertext: &[u8],
    format: Sm2CipherFormat,
) -> Result<Zeroizing<Vec<u8>>> {
    // C1 (65) + C3 (32) + at least one byte of C2.
    let min = match format {
        Sm2CipherFormat::SmCryptoJs | Sm2CipherFormat::SmCryptoJsC1C2C3 => 64 + 32 + 1,
        Sm2CipherFormat::Der => 1,
        _ => 33 + 32 + 1,
    };
    if ciphertext.len() < min {
        return Err(Error::Decrypt);
    }
    let scalar = key.secret().to_nonzero_scalar();
    let out = match format {
        Sm2CipherFormat::C1C3C2 => {
            DecryptingKey::new_with_mode(scalar, Mode::C1C3C2).decrypt(ciphertext)
        }
        Sm2CipherFormat::C1C2C3 => {
            DecryptingKey::new_with_mode(scalar, Mode::C1C2C3).decrypt(ciphertext)
        }
        Sm2CipherFormat::Der => {
            DecryptingKey::new_with_mode(scalar, Mode::C1C3C2).decrypt_der(ciphertext)
        }
        Sm2CipherFormat::SmCryptoJs | Sm2CipherFormat::SmCryptoJsC1C2C3 => {
            let mut full = Vec::with_capacity(ciphertext.len() + 1);
            full.push(0x04);
            full.extend_from_slice(ciphertext);
            let mode = if format == Sm2CipherFormat::SmCryptoJs {
                Mode::C1C3C2
            } else {
                Mode::C1C2C3
            };
            DecryptingKey::new_with_mode(scalar, mode).decrypt(&full)
        }
    };
    out.map(Zeroizing::new).map_err(|_| Error::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_round_trip_and_tamper() {
        let sk = Sm2PrivateKey::generate().unwrap();
        let pk = sk.public_key();
        let sig = sm2_sign(&sk, DEFAULT_USER_ID, b"apply 2026").unwrap();
        assert!(sm2_verify(&pk, DEFAULT_USER_ID, b"apply 2026", &sig).unwrap());
        assert!(!sm2_verify(&pk, DEFAULT_USER_ID, b"apply 2027", &sig).unwrap());
        assert!(!sm2_verify(&pk, "ALICE123@YAHOO.COM", b"apply 2026", &sig).unwrap());
        let der = sm2_signature_to_der(&sig).unwrap();
        assert!(sm2_verify(&pk, DEFAULT_USER_ID, b"apply 2026", &der).unwrap());
        assert!(matches!(
            sm2_verify(&pk, DEFAULT_USER_ID, b"x", &[1, 2, 3]),
            Err(Error::BadSignatureFormat)
        ));
    }

    #[test]
    fn every_layout_round_trips_and_autodetects() {
        let sk = Sm2PrivateKey::generate().unwrap();
        let pk = sk.public_key();
        for format in Sm2CipherFormat::ALL {
            let ct = sm2_encrypt(&pk, "张三 310101".as_bytes(), format).unwrap();
            assert_eq!(
                sm2_decrypt_as(&sk, &ct, format).unwrap().as_slice(),
                "张三 310101".as_bytes()
            );
            assert_eq!(
                sm2_decrypt(&sk, &ct).unwrap().as_slice(),
                "张三 310101".as_bytes(),
                "{format:?}"
            );
        }
    }

    #[test]
    fn c3_is_checked_and_bad_input_is_an_error() {
        let sk = Sm2PrivateKey::generate().unwrap();
        let pk = sk.public_key();
        let ct = sm2_encrypt(&pk, b"payload", Sm2CipherFormat::C1C3C2).unwrap();
        // Flip one bit of C2 (the last byte): keystream XOR still "works" but C3 must catch it.
        let mut bad = ct.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(matches!(sm2_decrypt(&sk, &bad), Err(Error::Decrypt)));
        // Flip a bit of C3.
        let mut bad = ct.clone();
        bad[70] ^= 1;
        assert!(matches!(sm2_decrypt(&sk, &bad), Err(Error::Decrypt)));
        // Wrong key.
        let other = Sm2PrivateKey::generate().unwrap();
        assert!(matches!(sm2_decrypt(&other, &ct), Err(Error::Decrypt)));
        assert!(matches!(sm2_decrypt(&sk, &[]), Err(Error::Decrypt)));
        assert!(matches!(sm2_decrypt(&sk, &ct[..90]), Err(Error::Decrypt)));
        assert!(matches!(
            sm2_encrypt(&pk, b"", Sm2CipherFormat::C1C3C2),
            Err(Error::Encrypt(_))
        ));
    }

    #[test]
    fn keys_parse_in_every_form() {
        let sk = Sm2PrivateKey::generate().unwrap();
        let pk = sk.public_key();
        assert_eq!(Sm2PublicKey::from_hex(&pk.to_hex()).unwrap(), pk);
        assert_eq!(Sm2PublicKey::from_hex(&pk.to_hex_no_prefix()).unwrap(), pk);
        let again = Sm2PrivateKey::from_hex(&sk.to_hex()).unwrap();
        assert_eq!(again.public_key(), pk);
        assert!(matches!(
            Sm2PrivateKey::from_bytes(&[0u8; 32]),
            Err(Error::BadKey(_))
        ));
        assert!(matches!(
            Sm2PublicKey::from_bytes(&[4u8; 65]),
            Err(Error::BadKey(_))
        ));
        assert!(matches!(
            Sm2PublicKey::from_bytes(&[4u8; 10]),
            Err(Error::BadLength { .. })
        ));
        assert!(!format!("{sk:?}").contains(sk.to_hex().as_str()));
    }
}
