//! Runs the built `zhiban` binary for `zhiban crypto …` and `zhiban audit verify`.
//!
//! Vectors: SM3 GB/T 32905-2016 附录A 示例1, SM4 GB/T 32907-2016 附录A 示例1. SM2 signatures and
//! ciphertexts are randomised, so those are checked by round trips and by tampering.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use zhiban_pii::{AuditAction, AuditLog, AuditRecord, PiiKind};

const SM3_ABC: &str = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0";
const SM4_KEY: &str = "0123456789abcdeffedcba9876543210";
const SM4_CT: &str = "681edf34d206965e86b3e94f536e4246";

/// The binary, run in an empty directory so no `zhiban.toml` or `var/` of the checkout leaks in.
fn zhiban(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zhiban"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("ZHIBAN_CONFIG")
        .env_remove("RUST_LOG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn zhiban");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("wait zhiban")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Runs a command that must succeed and returns its trimmed stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let o = zhiban(dir, args, None);
    assert!(
        o.status.success(),
        "{args:?} failed: {:?}\n{}",
        o.status,
        stderr(&o)
    );
    stdout(&o)
}

/// A failure a user caused: exit 2 with a Chinese message, never a panic (exit 101).
fn assert_user_error(o: &Output, expect: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.starts_with("错误："), "{err}");
    assert!(err.contains(expect), "expected {expect:?} in {err}");
}

#[test]
fn selftest_passes_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let text = ok(dir.path(), &["crypto", "selftest"]);
    assert!(text.contains("密码算法自检通过"), "{text}");
    assert!(!text.contains("[失败]"), "{text}");

    let json: serde_json::Value =
        serde_json::from_str(&ok(dir.path(), &["crypto", "selftest", "--json"])).unwrap();
    assert_eq!(json["passed"], true);
    let checks = json["checks"].as_array().unwrap();
    assert!(checks.len() >= 5, "{json}");
    assert!(checks.iter().all(|c| c["passed"] == true), "{json}");
    let names: Vec<&str> = checks.iter().filter_map(|c| c["name"].as_str()).collect();
    for family in ["sm3", "sm4", "sm2"] {
        assert!(
            names.iter().any(|n| n.starts_with(family)),
            "{family} missing from {names:?}"
        );
    }
}

#[test]
fn sm3_matches_gbt_32905_for_text_hex_stdin_and_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(ok(dir.path(), &["crypto", "sm3", "--text", "abc"]), SM3_ABC);
    assert_eq!(
        ok(dir.path(), &["crypto", "sm3", "--hex", "616263"]),
        SM3_ABC
    );
    assert_eq!(
        ok(dir.path(), &["crypto", "sm3", "--hex", "0x61 62:63"]),
        SM3_ABC
    );
    let o = zhiban(
        dir.path(),
        &["crypto", "sm3", "--hex", "-"],
        Some("616263\n"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), SM3_ABC);
    std::fs::write(dir.path().join("abc.bin"), b"abc").unwrap();
    assert_eq!(
        ok(dir.path(), &["crypto", "sm3", "--file", "abc.bin"]),
        SM3_ABC
    );
    // A different input must give a different digest (guards against a constant answer).
    assert_ne!(ok(dir.path(), &["crypto", "sm3", "--text", "abd"]), SM3_ABC);
}

#[test]
fn sm4_ecb_matches_gbt_32907_and_decrypts_back() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["--mode", "ecb", "--key", SM4_KEY, "--padding", "none"];
    let mut enc = vec!["crypto", "sm4", "encrypt"];
    enc.extend(base);
    enc.extend(["--data", SM4_KEY]);
    assert_eq!(ok(dir.path(), &enc), SM4_CT);

    let mut dec = vec!["crypto", "sm4", "decrypt"];
    dec.extend(base);
    dec.extend(["--data", SM4_CT]);
    assert_eq!(ok(dir.path(), &dec), SM4_KEY);

    // Default PKCS#7 adds a whole block to block-aligned input.
    let padded = ok(
        dir.path(),
        &[
            "crypto", "sm4", "encrypt", "--mode", "ecb", "--key", SM4_KEY, "--data", SM4_KEY,
        ],
    );
    assert_eq!(padded.len(), 64);
    assert!(padded.starts_with(SM4_CT));
}

#[test]
fn sm4_cbc_and_gcm_round_trip_and_gcm_detects_tampering() {
    let dir = tempfile::tempdir().unwrap();
    // "张三申请失业登记" in UTF-8 (fictional person).
    let plain = "e5bca0e4b889e794b3e8afb7e5a4b1e4b89ae799bbe8aeb0";
    for (mode, iv) in [
        ("cbc", "000102030405060708090a0b0c0d0e0f"),
        ("gcm", "00001234567800000000abcd"),
    ] {
        let ct = ok(
            dir.path(),
            &[
                "crypto", "sm4", "encrypt", "--mode", mode, "--key", SM4_KEY, "--iv", iv, "--data",
                plain,
            ],
        );
        assert_ne!(ct, plain);
        let back = ok(
            dir.path(),
            &[
                "crypto", "sm4", "decrypt", "--mode", mode, "--key", SM4_KEY, "--iv", iv, "--data",
                &ct,
            ],
        );
        assert_eq!(back, plain, "{mode}");
    }

    let args = |aad: &'static str, data: String| -> Vec<String> {
        [
            "crypto",
            "sm4",
            "decrypt",
            "--mode",
            "gcm",
            "--key",
            SM4_KEY,
            "--iv",
            "00001234567800000000abcd",
            "--aad",
            aad,
            "--data",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([data])
        .collect()
    };
    let ct = ok(
        dir.path(),
        &[
            "crypto",
            "sm4",
            "encrypt",
            "--mode",
            "gcm",
            "--key",
            SM4_KEY,
            "--iv",
            "00001234567800000000abcd",
            "--aad",
            "feedface",
            "--data",
            plain,
        ],
    );
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        zhiban(dir.path(), &refs, None)
    };
    let o = run(args("feedface", ct.clone()));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), plain);
    // Wrong AAD, then one flipped ciphertext bit: both must be refused.
    assert_user_error(&run(args("feedfacf", ct.clone())), "解密失败");
    let mut flipped = ct.into_bytes();
    flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
    assert_user_error(
        &run(args("feedface", String::from_utf8(flipped).unwrap())),
        "解密失败",
    );
}

#[test]
fn sm2_keygen_sign_verify_and_encrypt_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let pair: serde_json::Value =
        serde_json::from_str(&ok(dir.path(), &["crypto", "sm2", "keygen"])).unwrap();
    let sk = pair["private_key"].as_str().unwrap().to_string();
    let pk = pair["public_key"].as_str().unwrap().to_string();
    let pk_js = pair["public_key_no_prefix"].as_str().unwrap().to_string();
    assert_eq!((sk.len(), pk.len(), pk_js.len()), (64, 130, 128));
    assert!(pk.starts_with("04") && pk.ends_with(&pk_js));

    let data = "e5bca0e4b889"; // 张三
    let sig = ok(
        dir.path(),
        &[
            "crypto",
            "sm2",
            "sign",
            "--private-key",
            &sk,
            "--data",
            data,
        ],
    );
    assert_eq!(sig.len(), 128);
    let verify = |key: &str, d: &str, s: &str, uid: Option<&str>| {
        let mut a = vec![
            "crypto",
            "sm2",
            "verify",
            "--public-key",
            key,
            "--data",
            d,
            "--signature",
            s,
        ];
        if let Some(u) = uid {
            a.extend(["--user-id", u]);
        }
        zhiban(dir.path(), &a, None)
    };
    let o = verify(&pk, data, &sig, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "true");
    // The default user id is 1234567812345678: naming it explicitly must agree.
    assert_eq!(
        stdout(&verify(&pk_js, data, &sig, Some("1234567812345678"))),
        "true"
    );
    // Other data or another user id: false and exit 1.
    for o in [
        verify(&pk, "e5bca0e4b88a", &sig, None),
        verify(&pk, data, &sig, Some("ALICE123@YAHOO.COM")),
    ] {
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(stdout(&o), "false");
    }

    let der = ok(
        dir.path(),
        &[
            "crypto",
            "sm2",
            "sign",
            "--private-key",
            &sk,
            "--data",
            data,
            "--der",
            "--user-id",
            "ALICE123@YAHOO.COM",
        ],
    );
    assert!(der.starts_with("30"), "{der}");
    assert_eq!(
        stdout(&verify(&pk, data, &der, Some("ALICE123@YAHOO.COM"))),
        "true"
    );

    // The private key may come from standard input instead of the command line.
    let o = zhiban(
        dir.path(),
        &[
            "crypto",
            "sm2",
            "sign",
            "--private-key",
            "-",
            "--data",
            data,
        ],
        Some(&format!("{sk}\n")),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&verify(&pk, data, &stdout(&o), None)), "true");

    for format in ["c1c3c2", "c1c2c3", "der", "smcryptojs"] {
        let ct = ok(
            dir.path(),
            &[
                "crypto",
                "sm2",
                "encrypt",
                "--public-key",
                &pk,
                "--data",
                data,
                "--format",
                format,
            ],
        );
        match format {
            "der" => assert!(ct.starts_with("30"), "{ct}"),
            "smcryptojs" => assert_eq!(ct.len(), 2 * (64 + 32 + 6), "{ct}"),
            _ => assert!(
                ct.starts_with("04") && ct.len() == 2 * (65 + 32 + 6),
                "{ct}"
            ),
        }
        for explicit in [None, Some(format)] {
            let mut a = vec![
                "crypto",
                "sm2",
                "decrypt",
                "--private-key",
                &sk,
                "--data",
                &ct,
            ];
            if let Some(f) = explicit {
                a.extend(["--format", f]);
            }
            assert_eq!(ok(dir.path(), &a), data, "{format} {explicit:?}");
        }
    }
    // Default format is C1C3C2: decrypting it as C1C2C3 must fail the C3 check.
    let ct = ok(
        dir.path(),
        &[
            "crypto",
            "sm2",
            "encrypt",
            "--public-key",
            &pk,
            "--data",
            data,
        ],
    );
    let o = zhiban(
        dir.path(),
        &[
            "crypto",
            "sm2",
            "decrypt",
            "--private-key",
            &sk,
            "--data",
            &ct,
            "--format",
            "c1c2c3",
        ],
        None,
    );
    assert_user_error(&o, "解密失败");
    // Another key pair cannot decrypt.
    let other: serde_json::Value =
        serde_json::from_str(&ok(dir.path(), &["crypto", "sm2", "keygen"])).unwrap();
    let o = zhiban(
        dir.path(),
        &[
            "crypto",
            "sm2",
            "decrypt",
            "--private-key",
            other["private_key"].as_str().unwrap(),
            "--data",
            &ct,
        ],
        None,
    );
    assert_user_error(&o, "解密失败");
}

#[test]
fn bad_input_gives_a_chinese_error_and_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["crypto", "sm3", "--hex", "zz"], "十六进制"),
        (&["crypto", "sm3", "--hex", "abc"], "奇数"),
        (
            &[
                "crypto", "sm4", "encrypt", "--mode", "ecb", "--key", "0011", "--data", "00",
            ],
            "长度错误",
        ),
        (
            &[
                "crypto", "sm4", "encrypt", "--mode", "cbc", "--key", SM4_KEY, "--data", "00",
            ],
            "IV",
        ),
        (
            &[
                "crypto",
                "sm4",
                "encrypt",
                "--mode",
                "ecb",
                "--key",
                SM4_KEY,
                "--padding",
                "none",
                "--data",
                "0011",
            ],
            "长度",
        ),
        (
            &[
                "crypto", "sm4", "decrypt", "--mode", "ecb", "--key", SM4_KEY, "--data", "00",
            ],
            "",
        ),
        (
            &[
                "crypto", "sm4", "encrypt", "--mode", "ecb", "--key", SM4_KEY, "--aad", "00",
                "--data", "00",
            ],
            "GCM",
        ),
        (
            &[
                "crypto",
                "sm2",
                "sign",
                "--private-key",
                "not-hex",
                "--data",
                "00",
            ],
            "十六进制",
        ),
        (
            &[
                "crypto",
                "sm2",
                "sign",
                "--private-key",
                &"00".repeat(32),
                "--data",
                "00",
            ],
            "SM2",
        ),
        (
            &[
                "crypto",
                "sm2",
                "verify",
                "--public-key",
                "0411",
                "--data",
                "00",
                "--signature",
                &"11".repeat(64),
            ],
            "SM2",
        ),
        (
            &[
                "crypto",
                "sm2",
                "encrypt",
                "--public-key",
                "04",
                "--data",
                "00",
            ],
            "SM2",
        ),
        (
            &[
                "crypto",
                "sm2",
                "decrypt",
                "--private-key",
                &"11".repeat(32),
                "--data",
                &"04".repeat(40),
            ],
            "解密失败",
        ),
        (
            &[
                "crypto",
                "sm2",
                "decrypt",
                "--private-key",
                &"11".repeat(32),
                "--data",
                "",
            ],
            "",
        ),
    ];
    for (args, expect) in cases {
        let o = zhiban(dir.path(), args, None);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.starts_with("错误："), "{args:?}: {err}");
        assert!(
            err.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(expect),
            "{args:?}: expected {expect:?} in {err}"
        );
        assert!(o.stdout.is_empty(), "{args:?} printed {}", stdout(&o));
    }
    // Two arguments cannot both read standard input.
    let o = zhiban(
        dir.path(),
        &[
            "crypto", "sm4", "encrypt", "--mode", "ecb", "--key", "-", "--data", "-",
        ],
        Some(SM4_KEY),
    );
    assert_user_error(&o, "标准输入");
    // clap rejects an unknown mode or format before any crypto runs (exit 2, no panic).
    for args in [
        &[
            "crypto", "sm4", "encrypt", "--mode", "ctr", "--key", SM4_KEY, "--data", "00",
        ][..],
        &[
            "crypto",
            "sm2",
            "encrypt",
            "--public-key",
            "04",
            "--data",
            "00",
            "--format",
            "pem",
        ][..],
    ] {
        let o = zhiban(dir.path(), args, None);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("未知的"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// Writes a five-entry log under `dir/var/audit.log` (the default path).
fn write_log(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("var/audit.log");
    let log = AuditLog::open(&path).unwrap();
    let steps = [
        (
            "申请人核实",
            AuditAction::Decrypt,
            vec![PiiKind::Name, PiiKind::IdCard],
        ),
        (
            "失业登记准入判断",
            AuditAction::Decrypt,
            vec![PiiKind::IdCard],
        ),
        ("失业时间校验", AuditAction::Decrypt, vec![PiiKind::IdCard]),
        (
            "失业登记提交",
            AuditAction::Write,
            vec![PiiKind::IdCard, PiiKind::Mobile],
        ),
        ("综合查询", AuditAction::Decrypt, vec![PiiKind::IdCard]),
    ];
    for (tool, action, fields) in steps {
        log.append_blocking(AuditRecord::new(
            "clerk-0107",
            "sess-20261129-01",
            tool,
            action,
            fields,
        ))
        .unwrap();
    }
    path
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn rewrite(path: &Path, lines: &[String]) {
    std::fs::write(
        path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

#[test]
fn audit_verify_passes_an_intact_log_on_the_default_path() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path());
    let text = ok(dir.path(), &["audit", "verify"]);
    assert!(text.contains("记录条数：5"), "{text}");
    assert!(text.contains("结论：完整"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(dir.path(), &["audit", "verify", "--json"])).unwrap();
    assert_eq!(json["intact"], true);
    assert_eq!(json["entries"], 5);
    assert_eq!(json["problems"].as_array().unwrap().len(), 0);
}

#[test]
fn audit_verify_catches_an_edited_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let mut ls = lines(&path);
    // Someone hides who opened the data on line 3.
    assert!(ls[2].contains("clerk-0107"));
    ls[2] = ls[2].replace("clerk-0107", "clerk-0999");
    rewrite(&path, &ls);

    let log = path.to_str().unwrap();
    let o = zhiban(dir.path(), &["audit", "verify", "--log", log], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("第 3 行"), "{text}");
    assert!(text.contains("被改动"), "{text}");

    let o = zhiban(
        dir.path(),
        &["audit", "verify", "--log", log, "--json"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["intact"], false);
    assert!(
        json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["line"] == 3),
        "{json}"
    );
}

#[test]
fn audit_verify_catches_inserted_and_deleted_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let original = lines(&path);

    // A copy of line 2 inserted after it.
    let mut inserted = original.clone();
    inserted.insert(2, original[1].clone());
    // Line 4 removed.
    let mut deleted = original.clone();
    deleted.remove(3);
    // The last line removed: only the anchor file can tell.
    let mut truncated = original.clone();
    truncated.pop();

    for (what, ls) in [
        ("inserted", inserted),
        ("deleted", deleted),
        ("truncated", truncated),
    ] {
        rewrite(&path, &ls);
        let o = zhiban(dir.path(), &["audit", "verify", "--json"], None);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", stderr(&o));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(json["intact"], false, "{what}");
        assert!(!json["problems"].as_array().unwrap().is_empty(), "{what}");
    }

    // Restoring the original bytes makes it pass again.
    rewrite(&path, &original);
    assert!(
        zhiban(dir.path(), &["audit", "verify"], None)
            .status
            .success()
    );
}

#[test]
fn audit_verify_refuses_a_missing_log() {
    let dir = tempfile::tempdir().unwrap();
    let o = zhiban(
        dir.path(),
        &["audit", "verify", "--log", "no/such/audit.log"],
        None,
    );
    assert_user_error(&o, "找不到审计日志");
}
