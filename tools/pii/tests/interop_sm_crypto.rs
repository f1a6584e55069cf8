//! Interop with the `sm-crypto` crate (a port of the npm library MAP front ends use), both ways.
//! Valid inputs only: sm-crypto does not check C3 and panics on malformed input.

use sm_crypto::{sm2 as js, sm3 as js3, sm4 as js4};
use zhiban_pii::crypto::{
    DEFAULT_USER_ID, Padding, Sm2CipherFormat, Sm2PrivateKey, Sm2PublicKey, sm2_decrypt,
    sm2_decrypt_as, sm2_encrypt, sm2_sign, sm2_signature_to_der, sm2_verify, sm3_hex,
    sm4_cbc_decrypt, sm4_cbc_encrypt, sm4_ecb_decrypt, sm4_ecb_encrypt,
};

// sm-crypto returns plaintext through a big integer, which drops leading zero bytes; keep the
// first byte non-zero so the comparison tests layouts, not that quirk.
const MESSAGES: [&str; 3] = [
    "申请人：王小明，证件号 11010519491231002X",
    "a",
    "{\"idType\":\"01\"}",
];

fn messages() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = MESSAGES.iter().map(|m| m.as_bytes().to_vec()).collect();
    v.push((1..=200u8).collect());
    v
}

fn our_pair() -> (Sm2PrivateKey, String, String) {
    let sk = Sm2PrivateKey::generate().unwrap();
    let sk_hex = sk.to_hex().to_string();
    let pk_hex = sk.public_key().to_hex_no_prefix();
    (sk, sk_hex, pk_hex)
}

#[test]
fn sm3_agrees() {
    for m in messages() {
        assert_eq!(sm3_hex(&m), js3::sm3_hash(&m));
    }
}

#[test]
fn sm4_ecb_and_cbc_agree_both_ways() {
    let key = *b"zhiban-sm4-key!!";
    let iv = *b"zhiban-sm4-iv-16";
    for m in messages() {
        let theirs = js4::CryptSM4ECB::new(&key).encrypt_ecb(&m);
        assert_eq!(sm4_ecb_encrypt(&key, &m, Padding::Pkcs7).unwrap(), theirs);
        assert_eq!(
            sm4_ecb_decrypt(&key, &theirs, Padding::Pkcs7)
                .unwrap()
                .as_slice(),
            m.as_slice()
        );
        let theirs = js4::CryptSM4CBC::new(&key, &iv).encrypt_cbc(&m);
        let ours = sm4_cbc_encrypt(&key, &iv, &m, Padding::Pkcs7).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(js4::CryptSM4CBC::new(&key, &iv).decrypt_cbc(&ours), m);
        assert_eq!(
            sm4_cbc_decrypt(&key, &iv, &theirs, Padding::Pkcs7)
                .unwrap()
                .as_slice(),
            m.as_slice()
        );
    }
}

#[test]
fn our_signatures_verify_in_sm_crypto() {
    let (sk, _, pk_hex) = our_pair();
    for m in messages() {
        let sig = sm2_sign(&sk, DEFAULT_USER_ID, &m).unwrap();
        let der = sm2_signature_to_der(&sig).unwrap();
        assert!(js::Verify::new(&pk_hex).verify_der(&m, &der, true));
        let with_prefix = sk.public_key().to_hex();
        assert!(js::Verify::new(&with_prefix).verify_der(&m, &der, true));
        let mut other = m.clone();
        other.push(b'!');
        assert!(!js::Verify::new(&pk_hex).verify_der(&other, &der, true));
    }
}

#[test]
fn sm_crypto_signatures_verify_here() {
    let (sk_hex, pk_hex) = js::gen_keypair();
    let pk = Sm2PublicKey::from_hex(&pk_hex).unwrap();
    assert_eq!(Sm2PrivateKey::from_hex(&sk_hex).unwrap().public_key(), pk);
    for m in messages() {
        let der = js::Sign::new(&sk_hex).sign_der(&m, true);
        assert!(sm2_verify(&pk, DEFAULT_USER_ID, &m, &der).unwrap());
        assert!(!sm2_verify(&pk, DEFAULT_USER_ID, b"tampered", &der).unwrap());
        let custom = js::Sign::new_with_id(b"ALICE123@YAHOO.COM", &sk_hex).sign_der(&m, true);
        assert!(sm2_verify(&pk, "ALICE123@YAHOO.COM", &m, &custom).unwrap());
        assert!(!sm2_verify(&pk, DEFAULT_USER_ID, &m, &custom).unwrap());
    }
}

#[test]
fn our_ciphertexts_decrypt_in_sm_crypto() {
    let (sk, sk_hex, pk_hex) = our_pair();
    let pk = Sm2PublicKey::from_hex(&pk_hex).unwrap();
    assert_eq!(pk, sk.public_key());
    let dec = js::Decrypt::new(&sk_hex);
    for m in messages() {
        let c = sm2_encrypt(&pk, &m, Sm2CipherFormat::SmCryptoJs).unwrap();
        assert_eq!(dec.decrypt(&c), m);
        let c = sm2_encrypt(&pk, &m, Sm2CipherFormat::SmCryptoJsC1C2C3).unwrap();
        assert_eq!(dec.decrypt_c1c2c3(&c), m);
        let c = sm2_encrypt(&pk, &m, Sm2CipherFormat::Der).unwrap();
        assert_eq!(dec.decrypt_asna1(&c), m);
        // Our default (with 04) is the same bytes as sm-crypto's layout plus the prefix.
        let c = sm2_encrypt(&pk, &m, Sm2CipherFormat::C1C3C2).unwrap();
        assert_eq!(c[0], 0x04);
        assert_eq!(dec.decrypt(&c[1..]), m);
        let hex_no_prefix = hex::encode(&c[1..]);
        assert_eq!(dec.decrypt_hex(&hex_no_prefix), m);
    }
}

#[test]
fn sm_crypto_ciphertexts_decrypt_here_with_c3_checked() {
    let (sk_hex, pk_hex) = js::gen_keypair();
    let sk = Sm2PrivateKey::from_hex(&sk_hex).unwrap();
    let enc = js::Encrypt::new(&pk_hex);
    for m in messages() {
        let c = enc.encrypt(&m);
        assert_eq!(sm2_decrypt(&sk, &c).unwrap().as_slice(), m.as_slice());
        assert_eq!(
            sm2_decrypt_as(&sk, &c, Sm2CipherFormat::SmCryptoJs)
                .unwrap()
                .as_slice(),
            m.as_slice()
        );
        let c = enc.encrypt_c1c2c3(&m);
        assert_eq!(sm2_decrypt(&sk, &c).unwrap().as_slice(), m.as_slice());
        let c = enc.encrypt_asna1(&m);
        assert_eq!(sm2_decrypt(&sk, &c).unwrap().as_slice(), m.as_slice());
        let hex_c = enc.encrypt_hex(&m);
        let bytes = hex::decode(hex_c).unwrap();
        assert_eq!(sm2_decrypt(&sk, &bytes).unwrap().as_slice(), m.as_slice());
        // sm-crypto would accept this; we must not (C3 check).
        let mut bad = enc.encrypt(&m);
        let last = bad.len() - 1;
        bad[last] ^= 0x01;
        assert!(matches!(
            sm2_decrypt(&sk, &bad),
            Err(zhiban_pii::Error::Decrypt)
        ));
    }
}
