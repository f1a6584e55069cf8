//! Known-answer self-test, run at start-up: the service refuses to start if one check fails.
//!
//! Vectors: SM3 from GB/T 32905-2016 Annex A; SM4 from GB/T 32907-2016 Annex A (single block);
//! SM2 from GM/T 0003.5-2012 Annex A (signature) and Annex C (encryption) on the recommended
//! curve, both with the standard's fixed ephemeral k; SM4-GCM from RFC 8998 Appendix A.1.

use serde::Serialize;
use sm2::elliptic_curve::ops::Reduce;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::elliptic_curve::{Field, Group, PrimeField};
use sm2::{ProjectivePoint, Scalar, U256};

use super::hash::sm3;
use super::sm2::{
    DEFAULT_USER_ID, Sm2CipherFormat, Sm2PrivateKey, Sm2PublicKey, encrypt_with_rng,
    sm2_decrypt_as, sm2_verify,
};
use super::sm4::{Padding, sm4_ecb_decrypt, sm4_encrypt_block, sm4_gcm_decrypt, sm4_gcm_encrypt};
use crate::error::{Error, Result};

/// One known-answer check.
#[derive(Debug, Clone, Serialize)]
pub struct SelfTestCheck {
    /// Short name, e.g. `sm3-abc`.
    pub name: &'static str,
    /// Where the vector comes from.
    pub standard: &'static str,
    /// Whether it matched.
    pub passed: bool,
    /// Why it failed (never key material).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// All checks of one self-test run.
#[derive(Debug, Clone, Serialize)]
pub struct SelfTestReport {
    /// `true` when every check passed.
    pub passed: bool,
    /// The individual checks, in the order run.
    pub checks: Vec<SelfTestCheck>,
}

/// Runs every known-answer check and returns the report, pass or fail (for `zhiban crypto selftest`).
pub fn selftest_report() -> SelfTestReport {
    let checks = vec![
        check("sm3-abc", "GB/T 32905-2016 附录A 示例1", sm3_abc),
        check("sm3-512bit", "GB/T 32905-2016 附录A 示例2", sm3_512),
        check("sm4-block", "GB/T 32907-2016 附录A 示例1", sm4_block),
        check(
            "sm2-sign",
            "GM/T 0003.5-2012 附录A（固定 k）",
            sm2_sign_annex_a,
        ),
        check(
            "sm2-encrypt",
            "GM/T 0003.5-2012 附录C（固定 k）",
            sm2_encrypt_annex_c,
        ),
        check("sm4-gcm", "RFC 8998 Appendix A.1", sm4_gcm_rfc8998),
    ];
    SelfTestReport {
        passed: checks.iter().all(|c| c.passed),
        checks,
    }
}

/// Runs the self-test and fails if any check fails.
///
/// # Errors
/// [`Error::SelfTest`] naming the failed checks; the caller must refuse to start.
pub fn selftest() -> Result<SelfTestReport> {
    let report = selftest_report();
    if report.passed {
        Ok(report)
    } else {
        let failed: Vec<&str> = report
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name)
            .collect();
        Err(Error::SelfTest(failed.join(", ")))
    }
}

fn check(
    name: &'static str,
    standard: &'static str,
    f: fn() -> std::result::Result<(), String>,
) -> SelfTestCheck {
    let outcome = f();
    SelfTestCheck {
        name,
        standard,
        passed: outcome.is_ok(),
        detail: outcome.err(),
    }
}

fn h(s: &str) -> std::result::Result<Vec<u8>, String> {
    hex::decode(s).map_err(|e| format!("向量十六进制有误：{e}"))
}

fn expect_eq(what: &str, got: &[u8], want: &[u8]) -> std::result::Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{what} 不符：得到 {}，应为 {}",
            hex::encode(got),
            hex::encode(want)
        ))
    }
}

fn sm3_abc() -> std::result::Result<(), String> {
    let want = h("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")?;
    expect_eq("SM3(\"abc\")", &sm3(b"abc"), &want)
}

fn sm3_512() -> std::result::Result<(), String> {
    let want = h("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")?;
    expect_eq("SM3(\"abcd\"×16)", &sm3(&b"abcd".repeat(16)), &want)
}

fn sm4_block() -> std::result::Result<(), String> {
    let key = h("0123456789abcdeffedcba9876543210")?;
    let want = h("681edf34d206965e86b3e94f536e4246")?;
    let block: [u8; 16] = key
        .as_slice()
        .try_into()
        .map_err(|_| "密钥长度".to_string())?;
    let ct = sm4_encrypt_block(&key, &block).map_err(|e| e.to_string())?;
    expect_eq("SM4 加密", &ct, &want)?;
    let pt = sm4_ecb_decrypt(&key, &want, Padding::None).map_err(|e| e.to_string())?;
    expect_eq("SM4 解密", &pt, &key)
}

const ANNEX_D: &str = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";
const ANNEX_K: &str = "59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21";
const ANNEX_PUB: &str = "0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020\
ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13";

// Curve parameters of the recommended SM2 curve (GM/T 0003.5), needed for Z_A.
const CURVE_A: &str = "fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc";
const CURVE_B: &str = "28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93";
const CURVE_GX: &str = "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7";
const CURVE_GY: &str = "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0";

/// Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA), written out independently of the
/// RustCrypto crate so the check does not only test the crate against itself.
fn z_value(user_id: &[u8], public: &[u8; 65]) -> std::result::Result<[u8; 32], String> {
    let entl = u16::try_from(user_id.len() * 8).map_err(|_| "ID 过长".to_string())?;
    let mut buf = entl.to_be_bytes().to_vec();
    buf.extend_from_slice(user_id);
    for p in [CURVE_A, CURVE_B, CURVE_GX, CURVE_GY] {
        buf.extend_from_slice(&h(p)?);
    }
    buf.extend_from_slice(&public[1..]);
    Ok(sm3(&buf))
}

fn scalar_from(bytes: &[u8]) -> std::result::Result<Scalar, String> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| "标量长度".to_string())?;
    Option::from(Scalar::from_repr(arr.into())).ok_or_else(|| "标量超出范围".to_string())
}

/// SM2 signature with an explicit k (GM/T 0003.2 §6.1 A1–A7). Only used for the known answer:
/// the service signs through the RustCrypto implementation.
fn sign_with_k(
    d: &Scalar,
    e: &[u8; 32],
    k: &Scalar,
) -> std::result::Result<([u8; 32], [u8; 32]), String> {
    let point = (ProjectivePoint::generator() * k)
        .to_affine()
        .to_sec1_point(false);
    let x1 = point.as_bytes().get(1..33).ok_or("点编码有误")?;
    let e = <Scalar as Reduce<U256>>::reduce(&U256::from_be_slice(e));
    let x1 = <Scalar as Reduce<U256>>::reduce(&U256::from_be_slice(x1));
    let r = e + x1;
    let inv: Option<Scalar> = <Scalar as Field>::invert(&(Scalar::ONE + d)).into();
    let s = inv.ok_or("1+d 不可逆")? * (*k - r * d);
    let mut rb = [0u8; 32];
    let mut sb = [0u8; 32];
    rb.copy_from_slice(&r.to_repr());
    sb.copy_from_slice(&s.to_repr());
    Ok((rb, sb))
}

fn sm2_sign_annex_a() -> std::result::Result<(), String> {
    let d_bytes = h(ANNEX_D)?;
    let key = Sm2PrivateKey::from_bytes(&d_bytes).map_err(|e| e.to_string())?;
    let public = key.public_key();
    expect_eq("公钥", &public.to_bytes(), &h(ANNEX_PUB)?)?;
    let msg = b"message digest";
    let z = z_value(DEFAULT_USER_ID.as_bytes(), &public.to_bytes())?;
    let e = sm3(&[z.as_slice(), msg].concat());
    expect_eq(
        "杂凑值 e",
        &e,
        &h("f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640")?,
    )?;
    let want_r = h("f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3")?;
    let want_s = h("b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa")?;
    let (r, s) = sign_with_k(&scalar_from(&d_bytes)?, &e, &scalar_from(&h(ANNEX_K)?)?)?;
    expect_eq("签名 r", &r, &want_r)?;
    expect_eq("签名 s", &s, &want_s)?;
    // The production verifier must accept the standard's signature and reject a changed message.
    let sig = [want_r, want_s].concat();
    let ok = sm2_verify(&public, DEFAULT_USER_ID, msg, &sig).map_err(|e| e.to_string())?;
    let bad =
        sm2_verify(&public, DEFAULT_USER_ID, b"message digesT", &sig).map_err(|e| e.to_string())?;
    if !ok || bad {
        return Err(format!("验签结果不符：标准签名 {ok}，篡改消息 {bad}"));
    }
    Ok(())
}

/// Feeds a fixed ephemeral k to the encryption routine, once.
struct FixedK {
    k: [u8; 32],
    used: bool,
}

#[derive(Debug)]
struct KExhausted;
impl std::fmt::Display for KExhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fixed k used twice")
    }
}
impl std::error::Error for KExhausted {}

impl sm2::elliptic_curve::rand_core::TryRng for FixedK {
    type Error = KExhausted;
    fn try_next_u32(&mut self) -> std::result::Result<u32, KExhausted> {
        Err(KExhausted)
    }
    fn try_next_u64(&mut self) -> std::result::Result<u64, KExhausted> {
        Err(KExhausted)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> std::result::Result<(), KExhausted> {
        if self.used || dst.len() != 32 {
            return Err(KExhausted);
        }
        dst.copy_from_slice(&self.k);
        self.used = true;
        Ok(())
    }
}
impl sm2::elliptic_curve::rand_core::TryCryptoRng for FixedK {}

fn sm2_encrypt_annex_c() -> std::result::Result<(), String> {
    let key = Sm2PrivateKey::from_bytes(&h(ANNEX_D)?).map_err(|e| e.to_string())?;
    let public = Sm2PublicKey::from_bytes(&h(ANNEX_PUB)?).map_err(|e| e.to_string())?;
    let msg = b"encryption standard";
    let want = h(concat!(
        "04",
        "04ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73",
        "e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0",
        "59983c18f809e262923c53aec295d30383b54e39d609d160afcb1908d0bd8766",
        "21886ca989ca9c7d58087307ca93092d651efa"
    ))?;
    let k: [u8; 32] = h(ANNEX_K)?.try_into().map_err(|_| "k 长度".to_string())?;
    let mut rng = FixedK { k, used: false };
    let ct = encrypt_with_rng(&public, msg, Sm2CipherFormat::C1C3C2, &mut rng)
        .map_err(|e| e.to_string())?;
    expect_eq("密文 C1C3C2", &ct, &want)?;
    let pt = sm2_decrypt_as(&key, &want, Sm2CipherFormat::C1C3C2).map_err(|e| e.to_string())?;
    expect_eq("解密明文", &pt, msg)?;
    let mut tampered = want.clone();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    if sm2_decrypt_as(&key, &tampered, Sm2CipherFormat::C1C3C2).is_ok() {
        return Err("篡改后的密文未被 C3 校验拒绝".to_string());
    }
    Ok(())
}

fn sm4_gcm_rfc8998() -> std::result::Result<(), String> {
    let key = h("0123456789abcdeffedcba9876543210")?;
    let nonce = h("00001234567800000000abcd")?;
    let aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2")?;
    let pt = h(concat!(
        "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd",
        "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa"
    ))?;
    let want = h(concat!(
        "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735",
        "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d",
        "83de3541e4c2b58177e065a9bf7b62ec"
    ))?;
    let sealed = sm4_gcm_encrypt(&key, &nonce, &aad, &pt).map_err(|e| e.to_string())?;
    expect_eq("SM4-GCM 密文||标签", &sealed, &want)?;
    let opened = sm4_gcm_decrypt(&key, &nonce, &aad, &want).map_err(|e| e.to_string())?;
    expect_eq("SM4-GCM 解密", &opened, &pt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_answer_passes() {
        let report = selftest_report();
        for c in &report.checks {
            assert!(c.passed, "{} failed: {:?}", c.name, c.detail);
        }
        assert_eq!(report.checks.len(), 6);
        assert!(selftest().is_ok());
    }

    #[test]
    fn a_wrong_expectation_is_reported_not_swallowed() {
        let c = check("demo", "none", || expect_eq("x", b"a", b"b"));
        assert!(!c.passed);
        assert!(c.detail.unwrap().contains("61"));
    }
}
