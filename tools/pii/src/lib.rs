//! zhiban's PII boundary: SM2/SM3/SM4 crypto (RustCrypto), PII tokens sealed with SM4-GCM,
//! a versioned keyring, HMAC-SM3 request signatures, PII detection in free text and an
//! SM3-chained audit log.
//!
//! It owns key handling and the token format; it must not call line systems, log plaintext
//! PII or key material, or decide which tool fields are PII (the tool registry does). All types
//! are `Send + Sync`; the only shared mutable state is the audit appender (one writer thread per
//! log, fed by a channel, group-committing entries) and the replay cache (behind a mutex).
//!
//! ```
//! use std::sync::Arc;
//! use zhiban_pii::{Keyring, PiiKind, TokenScope, Vault};
//!
//! let vault = Vault::new(Arc::new(Keyring::generate()?));
//! let scope = TokenScope::new("shanghai", "session-1");
//! // Synthetic, checksum-valid ID of a fictional person.
//! let text = vault.tokenize_text(&scope, "身份证 11010519491231002X，电话 13912345678")?;
//! assert!(text.contains("⟦PII:ID_CARD:k1:") && !text.contains("1949"));
//! let back = vault.detokenize_text(&scope, &text)?;
//! assert_eq!(back.as_str(), "身份证 11010519491231002X，电话 13912345678");
//! assert!(matches!(
//!     vault.detokenize_text(&TokenScope::new("shanghai", "other"), &text),
//!     Err(zhiban_pii::Error::InvalidToken)
//! ));
//! # let _ = PiiKind::IdCard;
//! # Ok::<(), zhiban_pii::Error>(())
//! ```
#![warn(missing_docs)]

pub mod audit;
pub mod cli;
pub mod crypto;
pub mod detect;
mod error;
pub mod keyring;
pub mod signing;
pub mod token;

pub use audit::{
    AuditAction, AuditEntry, AuditLog, AuditProblem, AuditRecord, AuditStats, VerifyReport,
};
pub use crypto::{
    DEFAULT_USER_ID, Padding, SelfTestCheck, SelfTestReport, Sm2CipherFormat, Sm2PrivateKey,
    Sm2PublicKey, Sm4Mode, hmac_sm3, selftest, selftest_report, sm3, sm3_hex,
};
pub use detect::{Detection, detect};
pub use error::{Error, Result};
pub use keyring::{KEYRING_ENV, KEYRING_FILE_NAME, KeyProvider, Keyring, KeyringOrigin};
pub use signing::{ReplayGuard, RequestSignature, sign_request, sign_request_now, verify_request};
pub use token::{
    OpenedToken, PiiKind, TokenMatch, TokenScope, Vault, detokenize_text, find_tokens, is_token,
    tokenize_text,
};
