//! SM4 (GB/T 32907) in ECB, CBC and GCM (RFC 8998) modes.

use aes_gcm::aead::AeadInOut;
use aes_gcm::aead::consts::U12;
use sm4::Sm4;
use sm4::cipher::block_padding::{NoPadding, Pkcs7};
use sm4::cipher::{
    Array, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit,
};
use zeroize::Zeroizing;

use super::fixed;
use crate::error::{Error, Result};

/// SM4-GCM with the 12-byte nonce of RFC 8998 and a 16-byte tag.
pub(crate) type Sm4Gcm = aes_gcm::AesGcm<Sm4, U12>;

const KEY_LEN: &str = "16 字节（128 位）";

/// Block-cipher mode, as chosen on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sm4Mode {
    /// Electronic code book (no IV; only for legacy partners).
    Ecb,
    /// Cipher block chaining with a 16-byte IV.
    Cbc,
    /// Galois/counter mode with a 12-byte nonce; output is ciphertext || 16-byte tag.
    Gcm,
}

impl std::str::FromStr for Sm4Mode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "ecb" => Ok(Sm4Mode::Ecb),
            "cbc" => Ok(Sm4Mode::Cbc),
            "gcm" => Ok(Sm4Mode::Gcm),
            other => Err(format!("未知的 SM4 模式 {other}，可选 ecb、cbc、gcm")),
        }
    }
}

/// Padding for ECB/CBC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// PKCS#7 (the default almost every partner uses).
    #[default]
    Pkcs7,
    /// No padding: input must be a multiple of 16 bytes.
    None,
}

impl std::str::FromStr for Padding {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "pkcs7" | "pkcs5" => Ok(Padding::Pkcs7),
            "none" | "nopadding" => Ok(Padding::None),
            other => Err(format!("未知的填充方式 {other}，可选 pkcs7、none")),
        }
    }
}

fn check_block_multiple(what: &'static str, len: usize) -> Result<()> {
    if len.is_multiple_of(16) {
        Ok(())
    } else {
        Err(Error::BadLength {
            what,
            expected: "16 字节的整数倍",
            actual: len,
        })
    }
}

/// Encrypts one 16-byte block with the raw SM4 block function.
///
/// # Errors
/// [`Error::BadLength`] for a key that is not 16 bytes.
pub fn sm4_encrypt_block(key: &[u8], block: &[u8; 16]) -> Result<[u8; 16]> {
    let key: [u8; 16] = fixed("SM4 密钥", KEY_LEN, key)?;
    let cipher = Sm4::new(&Array::from(key));
    let mut b = Array::from(*block);
    cipher.encrypt_block(&mut b);
    Ok(b.into())
}

/// SM4-ECB encryption.
///
/// # Errors
/// Wrong key length; with [`Padding::None`], data not a multiple of 16 bytes.
pub fn sm4_ecb_encrypt(key: &[u8], data: &[u8], padding: Padding) -> Result<Vec<u8>> {
    let key: [u8; 16] = fixed("SM4 密钥", KEY_LEN, key)?;
    let enc = ecb::Encryptor::<Sm4>::new(&Array::from(key));
    Ok(match padding {
        Padding::Pkcs7 => enc.encrypt_padded_vec::<Pkcs7>(data),
        Padding::None => {
            check_block_multiple("明文", data.len())?;
            enc.encrypt_padded_vec::<NoPadding>(data)
        }
    })
}

/// SM4-ECB decryption.
///
/// # Errors
/// Wrong key length, ciphertext not a multiple of 16 bytes, or bad padding ([`Error::Decrypt`]).
pub fn sm4_ecb_decrypt(key: &[u8], data: &[u8], padding: Padding) -> Result<Zeroizing<Vec<u8>>> {
    let key: [u8; 16] = fixed("SM4 密钥", KEY_LEN, key)?;
    check_block_multiple("密文", data.len())?;
    let dec = ecb::Decryptor::<Sm4>::new(&Array::from(key));
    let out = match padding {
        Padding::Pkcs7 => dec.decrypt_padded_vec::<Pkcs7>(data),
        Padding::None => dec.decrypt_padded_vec::<NoPadding>(data),
    };
    out.map(Zeroizing::new).map_err(|_| Error::Decrypt)
}

/// SM4-CBC encryption with a 16-byte IV.
///
/// # Errors
/// Wrong key/IV length; with [`Padding::None`], data not a multiple of 16 bytes.
pub fn sm4_cbc_encrypt(key: &[u8], iv: &[u8], data: &[u8], padding: Padding) -> Result<Vec<u8>> {
    let key: [u8; 16] = fixed("SM4 密钥", KEY_LEN, key)?;
    let iv: [u8; 16] = fixed("CBC 初始向量 IV", "16 字节", iv)?;
    let enc = cbc::Encryptor::<Sm4>::new(&Array::from(key), &Array::from(iv));
    Ok(match padding {
        Padding::Pkcs7 => enc.encrypt_padded_vec::<Pkcs7>(data),
        Padding::None => {
            check_block_multiple("明文", data.len())?;
            enc.encrypt_padded_vec::<NoPadding>(data)
        }
    })
}

/// SM4-CBC decryption.
///
/// # Errors
/// Wrong key/IV length, ciphertext not a multiple of 16 bytes, or bad padding ([`Error::Decrypt`]).
pub fn sm4_cbc_decrypt(
    key: &[u8],
    iv: &[u8],
    data: &[u8],
    padding: Padding,
) -> Result<Zeroizing<Vec<u8>>> {
    let key: [u8; 16] = fixed("SM4 密钥", KEY_LEN, key)?;
    let iv: [u8; 16] = fixed("CBC 初始向量 IV", "16 字节", iv)?;
    check_block_multiple("密文", data.len())?;
    let dec = cbc::Decryptor::<Sm4>::new(&Array::from(key), &Array::from(iv));
    let out = match padding {
        Padding::Pkcs7 => dec.decrypt_padded_vec::<Pkcs7>(data),
        Padding::None => dec.decrypt_padded_vec::<NoPadding>(data),
    };
    out.map(Zeroizing::new).map_err(|_| Error::Decrypt)
}

/// SM4-GCM encryption; returns ciphertext || 16-byte tag.
///
/// # Errors
/// Wrong key length or a nonce that is not 12 bytes.
pub fn sm4_gcm_encrypt(key: &[u8], nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let key: [u8; 16] = fixed("SM4 密钥", KEY_LEN, key)?;
    let nonce: [u8; 12] = fixed("GCM 随机数 nonce", "12 字节", nonce)?;
    let cipher = Sm4Gcm::new(&Array::from(key));
    gcm_seal(&cipher, &nonce, aad, plaintext)
}

/// SM4-GCM decryption of ciphertext || tag; the tag is checked before anything is returned.
///
/// # Errors
/// Wrong key/nonce length, input shorter than a tag, or a tag mismatch ([`Error::Decrypt`]).
pub fn sm4_gcm_decrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let key: [u8; 16] = fixed("SM4 密钥", KEY_LEN, key)?;
    let nonce: [u8; 12] = fixed("GCM 随机数 nonce", "12 字节", nonce)?;
    let cipher = Sm4Gcm::new(&Array::from(key));
    gcm_open(&cipher, &nonce, aad, sealed)
}

/// Seals with an already keyed cipher (the vault keeps ciphers per key version).
pub(crate) fn gcm_seal(
    cipher: &Sm4Gcm,
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(plaintext.len() + 16);
    buf.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_inout_detached(&Array::from(*nonce), aad, buf.as_mut_slice().into())
        .map_err(|_| Error::Encrypt("SM4-GCM 输入过长"))?;
    buf.extend_from_slice(&tag);
    Ok(buf)
}

/// Opens with an already keyed cipher; plaintext only leaves on a matching tag.
pub(crate) fn gcm_open(
    cipher: &Sm4Gcm,
    nonce: &[u8; 12],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let split = sealed.len().checked_sub(16).ok_or(Error::Decrypt)?;
    let (ct, tag) = sealed.split_at(split);
    let tag: [u8; 16] = tag.try_into().map_err(|_| Error::Decrypt)?;
    let mut buf = Zeroizing::new(ct.to_vec());
    cipher
        .decrypt_inout_detached(
            &Array::from(*nonce),
            aad,
            buf.as_mut_slice().into(),
            &Array::from(tag),
        )
        .map_err(|_| Error::Decrypt)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 16] = [
        0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32,
        0x10,
    ];

    #[test]
    fn ecb_without_padding_is_the_block_function() {
        let block = sm4_encrypt_block(&KEY, &KEY).unwrap();
        let ecb = sm4_ecb_encrypt(&KEY, &KEY, Padding::None).unwrap();
        assert_eq!(ecb, block.to_vec());
        assert_eq!(
            sm4_ecb_decrypt(&KEY, &ecb, Padding::None)
                .unwrap()
                .as_slice(),
            &KEY
        );
    }

    #[test]
    fn pkcs7_adds_a_full_block_on_aligned_input_and_round_trips() {
        let ct = sm4_ecb_encrypt(&KEY, &[7u8; 16], Padding::Pkcs7).unwrap();
        assert_eq!(ct.len(), 32);
        let iv = [9u8; 16];
        for len in [0usize, 1, 15, 16, 17, 100] {
            let msg: Vec<u8> = (0..len as u8).collect();
            let ct = sm4_cbc_encrypt(&KEY, &iv, &msg, Padding::Pkcs7).unwrap();
            assert_eq!(ct.len(), (len / 16 + 1) * 16);
            let pt = sm4_cbc_decrypt(&KEY, &iv, &ct, Padding::Pkcs7).unwrap();
            assert_eq!(pt.as_slice(), msg.as_slice());
        }
    }

    #[test]
    fn cbc_chains_blocks() {
        // Two identical plaintext blocks must give different ciphertext blocks under CBC, and
        // the first CBC block equals ECB(P xor IV).
        let iv = [0x11u8; 16];
        let msg = [0x42u8; 32];
        let ct = sm4_cbc_encrypt(&KEY, &iv, &msg, Padding::None).unwrap();
        assert_ne!(ct[..16], ct[16..]);
        let mut x = [0u8; 16];
        for i in 0..16 {
            x[i] = msg[i] ^ iv[i];
        }
        assert_eq!(ct[..16], sm4_encrypt_block(&KEY, &x).unwrap());
    }

    #[test]
    fn errors_are_typed() {
        assert!(matches!(
            sm4_ecb_encrypt(&KEY[..15], b"x", Padding::Pkcs7),
            Err(Error::BadLength { actual: 15, .. })
        ));
        assert!(matches!(
            sm4_cbc_encrypt(&KEY, &[0u8; 8], b"x", Padding::Pkcs7),
            Err(Error::BadLength { actual: 8, .. })
        ));
        assert!(matches!(
            sm4_ecb_encrypt(&KEY, b"not aligned", Padding::None),
            Err(Error::BadLength { .. })
        ));
        assert!(matches!(
            sm4_gcm_encrypt(&KEY, &[0u8; 16], b"", b"x"),
            Err(Error::BadLength { actual: 16, .. })
        ));
        // Wrong key: padding check fails (or, rarely, yields garbage); never a panic.
        let ct = sm4_ecb_encrypt(&KEY, b"hello", Padding::Pkcs7).unwrap();
        let other = [0u8; 16];
        if let Ok(pt) = sm4_ecb_decrypt(&other, &ct, Padding::Pkcs7) {
            assert_ne!(pt.as_slice(), b"hello");
        }
    }

    #[test]
    fn gcm_rejects_any_change() {
        let nonce = [3u8; 12];
        let sealed = sm4_gcm_encrypt(&KEY, &nonce, b"aad", b"secret").unwrap();
        assert_eq!(sealed.len(), 6 + 16);
        assert_eq!(
            sm4_gcm_decrypt(&KEY, &nonce, b"aad", &sealed)
                .unwrap()
                .as_slice(),
            b"secret"
        );
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x80;
            assert!(matches!(
                sm4_gcm_decrypt(&KEY, &nonce, b"aad", &t),
                Err(Error::Decrypt)
            ));
        }
        assert!(matches!(
            sm4_gcm_decrypt(&KEY, &nonce, b"aaD", &sealed),
            Err(Error::Decrypt)
        ));
        assert!(matches!(
            sm4_gcm_decrypt(&KEY, &nonce, b"aad", &sealed[..10]),
            Err(Error::Decrypt)
        ));
        assert!(matches!(
            sm4_gcm_decrypt(&KEY, &nonce, b"aad", &[]),
            Err(Error::Decrypt)
        ));
    }
}
