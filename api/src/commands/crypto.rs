//! `zhiban crypto …`: SM2/SM3/SM4 in hex for integrators debugging a partner's encryption, and
//! the known-answer self-test the service runs at start-up.
//!
//! Everything here only parses arguments and prints; the algorithms and their defaults (user id
//! `1234567812345678`, C1C3C2, PKCS#7) live in `zhiban_pii::cli`. Any hex argument may be given
//! as `-` to read it from standard input, so that a key need not show up in the process list or
//! the shell history.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{ArgGroup, Args, Subcommand};
use zhiban_pii::cli::{self as pii_cli, Sm4Args};
use zhiban_pii::{DEFAULT_USER_ID, Padding, Sm2CipherFormat, Sm4Mode};

use super::print_json;
use crate::config::Config;

/// Crypto subcommands.
#[derive(Debug, Subcommand)]
pub enum CryptoCmd {
    /// Run the known-answer self-test (SM3, SM4, SM4-GCM, SM2); exit 1 if a check fails.
    Selftest {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// SM3 hash of hex data, UTF-8 text or a file, printed as hex.
    Sm3(Sm3Args),
    /// SM4 encryption and decryption (ECB, CBC, GCM).
    #[command(subcommand)]
    Sm4(Sm4Cmd),
    /// SM2 key generation, signatures (with user id) and public-key encryption.
    #[command(subcommand)]
    Sm2(Sm2Cmd),
}

/// Arguments of `zhiban crypto sm3`: exactly one input.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("input").required(true).args(["hex", "text", "file"])))]
pub struct Sm3Args {
    /// Data as hex (`-` reads it from standard input).
    #[arg(long)]
    hex: Option<String>,
    /// Data as UTF-8 text, hashed byte for byte.
    #[arg(long)]
    text: Option<String>,
    /// Hash the bytes of this file.
    #[arg(long)]
    file: Option<PathBuf>,
}

/// `zhiban crypto sm4 encrypt|decrypt`.
#[derive(Debug, Subcommand)]
pub enum Sm4Cmd {
    /// Encrypt; prints the ciphertext (GCM: ciphertext followed by the 16-byte tag).
    Encrypt(Sm4Opts),
    /// Decrypt; prints the plaintext as hex.
    Decrypt(Sm4Opts),
}

/// Options shared by SM4 encryption and decryption.
#[derive(Debug, Args)]
pub struct Sm4Opts {
    /// ecb, cbc or gcm.
    #[arg(long)]
    mode: Sm4Mode,
    /// 16-byte key, hex (`-` reads it from standard input).
    #[arg(long)]
    key: String,
    /// CBC: 16-byte IV; GCM: 12-byte nonce; not used by ECB.
    #[arg(long)]
    iv: Option<String>,
    /// GCM additional authenticated data, hex.
    #[arg(long)]
    aad: Option<String>,
    /// ECB/CBC padding: pkcs7 or none.
    #[arg(long, default_value = "pkcs7")]
    padding: Padding,
    /// Plaintext (encrypt) or ciphertext (decrypt), hex (`-` reads it from standard input).
    #[arg(long)]
    data: String,
}

/// `zhiban crypto sm2 …`.
#[derive(Debug, Subcommand)]
pub enum Sm2Cmd {
    /// Generate a key pair; prints JSON with private_key, public_key (04…) and
    /// public_key_no_prefix (the npm sm-crypto form).
    Keygen,
    /// Sign hex data (SM3 with Z, user id); prints r||s, or DER with --der.
    Sign {
        /// Private key, 32 bytes hex (`-` reads it from standard input).
        #[arg(long)]
        private_key: String,
        /// Data to sign, hex.
        #[arg(long)]
        data: String,
        /// Signer identity used in Z.
        #[arg(long, default_value = DEFAULT_USER_ID)]
        user_id: String,
        /// Print the signature as ASN.1 DER instead of 64-byte r||s.
        #[arg(long)]
        der: bool,
    },
    /// Verify a signature (r||s or DER); prints true or false and exits 1 on false.
    Verify {
        /// Public key, hex: 04||x||y, x||y (sm-crypto) or compressed.
        #[arg(long)]
        public_key: String,
        /// Signed data, hex.
        #[arg(long)]
        data: String,
        /// Signature, hex (r||s or DER).
        #[arg(long)]
        signature: String,
        /// Signer identity used in Z.
        #[arg(long, default_value = DEFAULT_USER_ID)]
        user_id: String,
    },
    /// Encrypt hex data to a public key; prints the ciphertext.
    Encrypt {
        /// Public key, hex: 04||x||y, x||y (sm-crypto) or compressed.
        #[arg(long)]
        public_key: String,
        /// Plaintext, hex (`-` reads it from standard input).
        #[arg(long)]
        data: String,
        /// Ciphertext layout: c1c3c2, c1c2c3, der, smcryptojs (C1C3C2 without 04) or
        /// smcryptojs-c1c2c3.
        #[arg(long, default_value = "c1c3c2", value_parser = parse_format)]
        format: Sm2CipherFormat,
    },
    /// Decrypt a ciphertext; prints the plaintext as hex.
    Decrypt {
        /// Private key, 32 bytes hex (`-` reads it from standard input).
        #[arg(long)]
        private_key: String,
        /// Ciphertext, hex (`-` reads it from standard input).
        #[arg(long)]
        data: String,
        /// Ciphertext layout (c1c3c2, c1c2c3, der, smcryptojs, smcryptojs-c1c2c3); without it
        /// the layout is detected, and C3 is checked either way.
        #[arg(long, value_parser = parse_format)]
        format: Option<Sm2CipherFormat>,
    },
}

/// Parses `--format`, accepting the names in our help text as well as the library's aliases.
fn parse_format(s: &str) -> std::result::Result<Sm2CipherFormat, String> {
    let normalised = s.trim().to_ascii_lowercase().replace('_', "-");
    match normalised.as_str() {
        "smcryptojs" | "sm-crypto-js" | "smcryptojs-c1c3c2" => Ok(Sm2CipherFormat::SmCryptoJs),
        "smcryptojs-c1c2c3" | "sm-crypto-js-c1c2c3" => Ok(Sm2CipherFormat::SmCryptoJsC1C2C3),
        other => other.parse().map_err(|_| {
            format!(
                "未知的 SM2 密文格式 {s}，可选 c1c3c2、c1c2c3、der、smcryptojs、smcryptojs-c1c2c3"
            )
        }),
    }
}

/// Resolves argument values, reading a `-` value from standard input (at most once per run).
#[derive(Debug, Default)]
struct Inputs {
    /// The flag that already consumed standard input.
    stdin_taken: Option<&'static str>,
}

impl Inputs {
    fn hex(&mut self, flag: &'static str, value: String) -> Result<String> {
        if value.trim() != "-" {
            return Ok(value);
        }
        if let Some(first) = self.stdin_taken {
            bail!("只能有一个参数从标准输入读取（{first} 已经用了 -），请直接给出 {flag} 的值");
        }
        self.stdin_taken = Some(flag);
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .with_context(|| format!("从标准输入读取 {flag} 失败"))?;
        if text.trim().is_empty() {
            bail!("标准输入为空，没有读到 {flag} 的值");
        }
        Ok(text)
    }
}

/// Runs a crypto subcommand.
///
/// # Errors
/// Bad hex, wrong lengths, wrong keys or a failed decryption, with a Chinese message.
pub fn run(_cfg: &Config, cmd: CryptoCmd) -> Result<ExitCode> {
    let mut inputs = Inputs::default();
    match cmd {
        CryptoCmd::Selftest { json } => selftest(json),
        CryptoCmd::Sm3(a) => {
            let digest = match (a.hex, a.text, a.file) {
                (Some(h), _, _) => pii_cli::sm3_hex(&inputs.hex("--hex", h)?)?,
                (_, Some(t), _) => pii_cli::sm3_text(&t),
                (_, _, Some(p)) => {
                    let bytes = std::fs::read(&p)
                        .with_context(|| format!("读取文件 {} 失败", p.display()))?;
                    zhiban_pii::sm3_hex(&bytes)
                }
                // clap's required group makes this unreachable; say so rather than panic.
                (None, None, None) => bail!("请用 --hex、--text 或 --file 给出要计算摘要的数据"),
            };
            println!("{digest}");
            Ok(ExitCode::SUCCESS)
        }
        CryptoCmd::Sm4(c) => {
            let (encrypt, o) = match c {
                Sm4Cmd::Encrypt(o) => (true, o),
                Sm4Cmd::Decrypt(o) => (false, o),
            };
            let key = inputs.hex("--key", o.key)?;
            let data = inputs.hex("--data", o.data)?;
            if o.aad.is_some() && o.mode != Sm4Mode::Gcm {
                bail!("--aad 只用于 GCM 模式");
            }
            let args = Sm4Args {
                mode: o.mode,
                key_hex: &key,
                iv_hex: o.iv.as_deref(),
                aad_hex: o.aad.as_deref(),
                padding: o.padding,
                data_hex: &data,
            };
            let out = if encrypt {
                pii_cli::sm4_encrypt_hex(&args)?
            } else {
                pii_cli::sm4_decrypt_hex(&args)?
            };
            println!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        CryptoCmd::Sm2(c) => sm2(&mut inputs, c),
    }
}

fn selftest(json: bool) -> Result<ExitCode> {
    let report = pii_cli::selftest_report();
    if json {
        print_json(&report)?;
    } else {
        for c in &report.checks {
            let mark = if c.passed { "通过" } else { "失败" };
            match &c.detail {
                Some(d) => println!("[{mark}] {}（{}）：{d}", c.name, c.standard),
                None => println!("[{mark}] {}（{}）", c.name, c.standard),
            }
        }
        let failed = report.checks.iter().filter(|c| !c.passed).count();
        if report.passed {
            println!("密码算法自检通过：共 {} 项", report.checks.len());
        } else {
            println!(
                "密码算法自检失败：{} 项中有 {failed} 项未通过，服务不得启动",
                report.checks.len()
            );
        }
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn sm2(inputs: &mut Inputs, cmd: Sm2Cmd) -> Result<ExitCode> {
    match cmd {
        Sm2Cmd::Keygen => {
            let pair = pii_cli::sm2_keygen_hex()?;
            print_json(&pair)?;
            eprintln!("提示：私钥只用于联调测试，请妥善保管，不要提交到代码仓库或发到聊天群。");
        }
        Sm2Cmd::Sign {
            private_key,
            data,
            user_id,
            der,
        } => {
            let key = inputs.hex("--private-key", private_key)?;
            let data = inputs.hex("--data", data)?;
            println!(
                "{}",
                pii_cli::sm2_sign_hex(&key, &data, Some(&user_id), der)?
            );
        }
        Sm2Cmd::Verify {
            public_key,
            data,
            signature,
            user_id,
        } => {
            let key = inputs.hex("--public-key", public_key)?;
            let data = inputs.hex("--data", data)?;
            let sig = inputs.hex("--signature", signature)?;
            let ok = pii_cli::sm2_verify_hex(&key, &data, &sig, Some(&user_id))?;
            println!("{ok}");
            if !ok {
                eprintln!("签名验证未通过：数据、公钥、签名或用户标识（--user-id）不一致");
                return Ok(ExitCode::from(1));
            }
        }
        Sm2Cmd::Encrypt {
            public_key,
            data,
            format,
        } => {
            let key = inputs.hex("--public-key", public_key)?;
            let data = inputs.hex("--data", data)?;
            println!("{}", pii_cli::sm2_encrypt_hex(&key, &data, Some(format))?);
        }
        Sm2Cmd::Decrypt {
            private_key,
            data,
            format,
        } => {
            let key = inputs.hex("--private-key", private_key)?;
            let data = inputs.hex("--data", data)?;
            println!("{}", pii_cli::sm2_decrypt_hex(&key, &data, format)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> std::result::Result<CryptoCmd, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("zhiban").chain(args.iter().copied()))?;
        match cli.command {
            Command::Crypto(c) => Ok(c),
            other => panic!("not a crypto command: {other:?}"),
        }
    }

    #[test]
    fn format_names_from_the_help_text_and_the_library_parse() {
        assert_eq!(parse_format("C1C3C2"), Ok(Sm2CipherFormat::C1C3C2));
        assert_eq!(parse_format("c1c2c3"), Ok(Sm2CipherFormat::C1C2C3));
        assert_eq!(parse_format("der"), Ok(Sm2CipherFormat::Der));
        assert_eq!(parse_format("smcryptojs"), Ok(Sm2CipherFormat::SmCryptoJs));
        assert_eq!(parse_format("sm-crypto"), Ok(Sm2CipherFormat::SmCryptoJs));
        assert_eq!(
            parse_format("smcryptojs_c1c2c3"),
            Ok(Sm2CipherFormat::SmCryptoJsC1C2C3)
        );
        let err = parse_format("pkcs1").unwrap_err();
        assert!(err.contains("未知的 SM2 密文格式 pkcs1"), "{err}");
    }

    #[test]
    fn sm2_defaults_are_the_usual_ones() {
        match parse(&[
            "crypto",
            "sm2",
            "sign",
            "--private-key",
            "01",
            "--data",
            "00",
        ])
        .unwrap()
        {
            CryptoCmd::Sm2(Sm2Cmd::Sign { user_id, der, .. }) => {
                assert_eq!(user_id, "1234567812345678");
                assert!(!der);
            }
            other => panic!("{other:?}"),
        }
        match parse(&[
            "crypto",
            "sm2",
            "encrypt",
            "--public-key",
            "04",
            "--data",
            "00",
        ])
        .unwrap()
        {
            CryptoCmd::Sm2(Sm2Cmd::Encrypt { format, .. }) => {
                assert_eq!(format, Sm2CipherFormat::C1C3C2)
            }
            other => panic!("{other:?}"),
        }
        match parse(&[
            "crypto",
            "sm2",
            "decrypt",
            "--private-key",
            "01",
            "--data",
            "00",
        ])
        .unwrap()
        {
            CryptoCmd::Sm2(Sm2Cmd::Decrypt { format, .. }) => assert_eq!(format, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sm4_padding_defaults_to_pkcs7_and_bad_modes_are_refused() {
        let args = [
            "crypto", "sm4", "encrypt", "--mode", "CBC", "--key", "00", "--data", "00",
        ];
        match parse(&args).unwrap() {
            CryptoCmd::Sm4(Sm4Cmd::Encrypt(o)) => {
                assert_eq!(o.padding, Padding::Pkcs7);
                assert_eq!(o.mode, Sm4Mode::Cbc);
            }
            other => panic!("{other:?}"),
        }
        let err = parse(&[
            "crypto", "sm4", "encrypt", "--mode", "ctr", "--key", "00", "--data", "00",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("未知的 SM4 模式"), "{err}");
    }

    #[test]
    fn sm3_needs_exactly_one_input() {
        use clap::error::ErrorKind;
        let kind = |args: &[&str]| parse(args).map(|_| ()).map_err(|e| e.kind());
        assert_eq!(
            kind(&["crypto", "sm3"]),
            Err(ErrorKind::MissingRequiredArgument)
        );
        assert_eq!(
            kind(&["crypto", "sm3", "--hex", "00", "--text", "a"]),
            Err(ErrorKind::ArgumentConflict)
        );
        assert!(parse(&["crypto", "sm3", "--text", "abc"]).is_ok());
    }

    #[test]
    fn a_plain_value_is_passed_through_untouched() {
        let mut inputs = Inputs::default();
        assert_eq!(inputs.hex("--data", " 0a0b ".into()).unwrap(), " 0a0b ");
        assert_eq!(inputs.stdin_taken, None);
    }

    #[test]
    fn aad_outside_gcm_is_refused() {
        let cfg_err = run(
            &Config::default(),
            CryptoCmd::Sm4(Sm4Cmd::Encrypt(Sm4Opts {
                mode: Sm4Mode::Ecb,
                key: "0123456789abcdeffedcba9876543210".into(),
                iv: None,
                aad: Some("00".into()),
                padding: Padding::None,
                data: "0123456789abcdeffedcba9876543210".into(),
            })),
        )
        .unwrap_err()
        .to_string();
        assert!(cfg_err.contains("GCM"), "{cfg_err}");
    }
}
