//! Throughput of PII tokens (SM4-GCM seal/open) and SM2 operations.
//! Run: `cargo bench -p zhiban-pii --bench crypto -- --quick`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use zhiban_pii::crypto::{
    DEFAULT_USER_ID, Sm2CipherFormat, Sm2PrivateKey, sm2_decrypt, sm2_encrypt, sm2_sign, sm2_verify,
};
use zhiban_pii::{Keyring, PiiKind, TokenScope, Vault};

fn tokens(c: &mut Criterion) {
    let vault = Vault::new(Arc::new(Keyring::generate().unwrap()));
    let scope = TokenScope::new("shanghai", "bench-session");
    // Synthetic ID of a fictional person.
    let id = "11010519491231002X";
    let token = vault.seal(&scope, PiiKind::IdCard, id).unwrap();
    let mut g = c.benchmark_group("token");
    g.throughput(Throughput::Elements(1));
    g.bench_function("seal", |b| {
        b.iter(|| {
            let t = vault.seal(&scope, PiiKind::IdCard, black_box(id)).unwrap();
            assert!(t.len() > 20);
            t
        })
    });
    g.bench_function("open", |b| {
        b.iter(|| {
            let o = vault.open(&scope, black_box(&token)).unwrap();
            assert_eq!(o.plaintext.len(), 18);
        })
    });
    g.bench_function("seal+open", |b| {
        b.iter(|| {
            let t = vault.seal(&scope, PiiKind::IdCard, black_box(id)).unwrap();
            let o = vault.open(&scope, &t).unwrap();
            assert_eq!(o.plaintext.len(), 18);
        })
    });
    g.finish();
}

fn sm2(c: &mut Criterion) {
    let sk = Sm2PrivateKey::generate().unwrap();
    let pk = sk.public_key();
    let msg = "{\"name\":\"王小明\",\"idNo\":\"11010519491231002X\"}".as_bytes();
    let sig = sm2_sign(&sk, DEFAULT_USER_ID, msg).unwrap();
    let ct = sm2_encrypt(&pk, msg, Sm2CipherFormat::C1C3C2).unwrap();
    let mut g = c.benchmark_group("sm2");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign", |b| {
        b.iter(|| sm2_sign(&sk, DEFAULT_USER_ID, black_box(msg)).unwrap())
    });
    g.bench_function("verify", |b| {
        b.iter(|| assert!(sm2_verify(&pk, DEFAULT_USER_ID, black_box(msg), &sig).unwrap()))
    });
    g.bench_function("encrypt", |b| {
        b.iter(|| sm2_encrypt(&pk, black_box(msg), Sm2CipherFormat::C1C3C2).unwrap())
    });
    g.bench_function("decrypt", |b| {
        b.iter(|| assert_eq!(sm2_decrypt(&sk, black_box(&ct)).unwrap().len(), msg.len()))
    });
    g.finish();
}

criterion_group!(benches, tokens, sm2);
criterion_main!(benches);
