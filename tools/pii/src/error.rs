//! The crate's single error type.
//!
//! Messages are in Chinese because they reach clerks and integrators through the CLI and the
//! API; they never contain plaintext PII or key material.

use std::path::PathBuf;

/// Everything that can go wrong inside the PII boundary.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input that should be hexadecimal is not.
    #[error("{field} 不是有效的十六进制：{reason}")]
    BadHex {
        /// Which input (key, iv, data …).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A key, IV, nonce or block has the wrong length.
    #[error("{what} 长度错误：应为 {expected}，实际为 {actual} 字节")]
    BadLength {
        /// Which value.
        what: &'static str,
        /// The accepted length(s), in words.
        expected: &'static str,
        /// The length that was given.
        actual: usize,
    },
    /// A required input is missing (e.g. the IV for CBC), or one was given that the mode forbids.
    #[error("参数有误：{0}")]
    BadArgument(&'static str),
    /// An SM2 private or public key is not valid for the curve.
    #[error("SM2 密钥无效：{0}")]
    BadKey(&'static str),
    /// An SM2 signature could not be parsed (neither 64 raw bytes nor DER).
    #[error("SM2 签名格式无效：应为 64 字节 r||s 或 DER 编码")]
    BadSignatureFormat,
    /// Decryption failed: wrong key, wrong layout, bad padding or a failed integrity check (C3/GCM tag).
    #[error("解密失败：密文格式不对、密钥不匹配或数据已被篡改")]
    Decrypt,
    /// Encryption failed (empty SM2 plaintext, or the random source failed).
    #[error("加密失败：{0}")]
    Encrypt(&'static str),
    /// The operating system's random number generator failed.
    #[error("系统随机数发生器不可用")]
    Rng,
    /// A PII token could not be opened. Deliberately one variant for every cause (other session or
    /// tenant, tampered, truncated, unknown key version, garbage) so callers learn nothing.
    #[error("PII 令牌无效，或不属于当前租户与会话")]
    InvalidToken,
    /// The keyring has no key of this version.
    #[error("密钥环中没有版本 k{0} 的密钥")]
    UnknownKeyVersion(u32),
    /// A keyring file or environment value could not be understood.
    #[error("密钥环格式无效（{source_name}）：{reason}")]
    KeyringFormat {
        /// File path or environment variable name.
        source_name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The external key provider (KMS / cipher machine) failed.
    #[error("外部密钥服务出错：{0}")]
    KeyProvider(String),
    /// A signed request's timestamp is outside the accepted window.
    #[error("请求时间戳超出允许范围（偏差 {skew_secs} 秒，允许 {window_secs} 秒）")]
    StaleTimestamp {
        /// Observed skew in seconds.
        skew_secs: i64,
        /// Accepted window in seconds.
        window_secs: i64,
    },
    /// A signed request's nonce has been seen before inside the window.
    #[error("请求重放：该 nonce 已使用过")]
    Replay,
    /// A signed request's signature does not match.
    #[error("请求签名校验失败")]
    SignatureMismatch,
    /// A request-signature input is malformed (empty nonce, nonce with separators …).
    #[error("请求签名参数无效：{0}")]
    BadRequestSignatureInput(&'static str),
    /// The audit log on disk does not match its head/anchor file, so appending would hide tampering.
    #[error("审计日志 {path} 与锚点文件不一致，已拒绝继续写入：{reason}")]
    AuditTampered {
        /// Log path.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// Another appender (another process, or another open in this one) holds the audit log.
    #[error("审计日志 {path} 正由另一个进程写入（锁文件 {lock}）；同一份审计日志只能有一个写入者")]
    AuditLocked {
        /// Log path.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// The audit log's writer cannot take entries (stopped, or a failed write could not be undone).
    #[error("审计日志 {path} 暂时无法写入：{reason}")]
    AuditUnavailable {
        /// Log path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A mutex guarding shared state was poisoned by a panic elsewhere.
    #[error("内部状态锁已损坏（此前有线程异常退出）")]
    Poisoned,
    /// File-system error, with the path involved.
    #[error("读写文件 {path} 失败：{source}")]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// JSON (de)serialisation failed.
    #[error("JSON 处理失败：{0}")]
    Json(#[from] serde_json::Error),
    /// One or more known-answer self-tests failed; the service must not start.
    #[error("密码算法自检失败：{0}")]
    SelfTest(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A short stable code for the API's error table (`ErrorCode` mapping lives in api/).
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadHex { .. } => "bad_hex",
            Error::BadLength { .. } => "bad_length",
            Error::BadArgument(_) => "bad_argument",
            Error::BadKey(_) => "bad_key",
            Error::BadSignatureFormat => "bad_signature_format",
            Error::Decrypt => "decrypt_failed",
            Error::Encrypt(_) => "encrypt_failed",
            Error::Rng => "rng_failed",
            Error::InvalidToken => "invalid_token",
            Error::UnknownKeyVersion(_) => "unknown_key_version",
            Error::KeyringFormat { .. } => "keyring_format",
            Error::KeyProvider(_) => "key_provider",
            Error::StaleTimestamp { .. } => "stale_timestamp",
            Error::Replay => "replay",
            Error::SignatureMismatch => "signature_mismatch",
            Error::BadRequestSignatureInput(_) => "bad_signature_input",
            Error::AuditTampered { .. } => "audit_tampered",
            Error::AuditLocked { .. } => "audit_locked",
            Error::AuditUnavailable { .. } => "audit_unavailable",
            Error::Poisoned => "poisoned",
            Error::Io { .. } => "io",
            Error::Json(_) => "json",
            Error::SelfTest(_) => "selftest_failed",
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
