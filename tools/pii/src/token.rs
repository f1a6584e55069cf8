//! PII tokens: SM4-GCM ciphertext in a compact, self-delimiting text form that an LLM can echo.
//!
//! A token looks like `⟦PII:ID_CARD:k1:<base64url(nonce || ciphertext || tag)>⟧`. The AAD binds
//! tenant, session, PII kind and key version, so a token copied into another session or tenant,
//! relabelled with another kind, or moved to another key version does not open. Every failure
//! to open is the single [`Error::InvalidToken`], so a caller learns nothing about why.
//!
//! Nonces are random (96 bits); rotate the key well before 2^32 tokens per version.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::random_bytes;
use crate::detect::detect;
use crate::error::{Error, Result};
use crate::keyring::KeyProvider;

/// The kind of personal information a value holds. Names are stable (they appear in tokens,
/// tool schemas and the audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PiiKind {
    /// Person's name (姓名).
    Name,
    /// 18-digit resident ID (居民身份证号码, GB 11643).
    IdCard,
    /// 15-digit first-generation ID.
    LegacyIdCard,
    /// Mobile number.
    Mobile,
    /// Landline number.
    Landline,
    /// Bank card number.
    BankCard,
    /// Unified social credit code (统一社会信用代码, GB 32100).
    CreditCode,
    /// Address (住址).
    Address,
    /// Any other field a tool schema marks as PII.
    Other,
}

impl PiiKind {
    /// Every kind.
    pub const ALL: [PiiKind; 9] = [
        PiiKind::Name,
        PiiKind::IdCard,
        PiiKind::LegacyIdCard,
        PiiKind::Mobile,
        PiiKind::Landline,
        PiiKind::BankCard,
        PiiKind::CreditCode,
        PiiKind::Address,
        PiiKind::Other,
    ];

    /// The stable upper-snake name (`ID_CARD` …).
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Name => "NAME",
            PiiKind::IdCard => "ID_CARD",
            PiiKind::LegacyIdCard => "LEGACY_ID_CARD",
            PiiKind::Mobile => "MOBILE",
            PiiKind::Landline => "LANDLINE",
            PiiKind::BankCard => "BANK_CARD",
            PiiKind::CreditCode => "CREDIT_CODE",
            PiiKind::Address => "ADDRESS",
            PiiKind::Other => "OTHER",
        }
    }

    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// A Chinese label for messages to clerks.
    pub fn label_zh(self) -> &'static str {
        match self {
            PiiKind::Name => "姓名",
            PiiKind::IdCard => "身份证号",
            PiiKind::LegacyIdCard => "15位身份证号",
            PiiKind::Mobile => "手机号",
            PiiKind::Landline => "固定电话",
            PiiKind::BankCard => "银行卡号",
            PiiKind::CreditCode => "统一社会信用代码",
            PiiKind::Address => "地址",
            PiiKind::Other => "其他个人信息",
        }
    }
}

impl std::fmt::Display for PiiKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PiiKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::from_name(s).ok_or_else(|| format!("未知的 PII 类型 {s}"))
    }
}

/// Who a token belongs to: it opens only under the same tenant and session.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenScope {
    /// Tenant (e.g. the district or the MAP platform instance).
    pub tenant: String,
    /// Conversation / agent session id.
    pub session: String,
}

impl TokenScope {
    /// A scope for `tenant` and `session`.
    pub fn new(tenant: impl Into<String>, session: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            session: session.into(),
        }
    }
}

/// A successfully opened token. `Debug` does not print the plaintext.
pub struct OpenedToken {
    /// The kind recorded in the token (authenticated).
    pub kind: PiiKind,
    /// The plaintext, wiped on drop.
    pub plaintext: Zeroizing<String>,
}

impl std::fmt::Debug for OpenedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedToken")
            .field("kind", &self.kind)
            .field("plaintext", &"<redacted>")
            .finish()
    }
}

/// Where a syntactically valid token sits in a text (byte offsets, `text[start..end]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenMatch {
    /// Start byte offset (the opening bracket).
    pub start: usize,
    /// End byte offset (after the closing bracket).
    pub end: usize,
    /// Kind named in the token (not yet authenticated).
    pub kind: PiiKind,
    /// Key version named in the token (not yet authenticated).
    pub version: u32,
}

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Longest payload accepted when scanning text, so a hostile text cannot make us decode megabytes.
const MAX_PAYLOAD_CHARS: usize = 16 * 1024;

/// Seals and opens PII tokens under a [`KeyProvider`]. Cheap to clone; thread-safe.
#[derive(Clone)]
pub struct Vault {
    provider: Arc<dyn KeyProvider>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("current_version", &self.provider.current_version())
            .finish()
    }
}

impl Vault {
    /// A vault over `provider` (a [`crate::Keyring`] or an external KMS).
    pub fn new(provider: Arc<dyn KeyProvider>) -> Self {
        Self { provider }
    }

    /// Whether the key provider may block (see [`KeyProvider::blocking`]): callers on an async
    /// runtime then move vault work to the blocking pool.
    pub fn provider_blocks(&self) -> bool {
        self.provider.blocking()
    }

    /// Seals `plaintext` as a token of `kind` for `scope`, under the current key version.
    ///
    /// # Errors
    /// [`Error::Rng`] or a key-provider failure.
    pub fn seal(&self, scope: &TokenScope, kind: PiiKind, plaintext: &str) -> Result<String> {
        let version = self.provider.current_version();
        let mut nonce = [0u8; NONCE_LEN];
        random_bytes(&mut nonce)?;
        let aad = aad(scope, kind, version);
        let sealed = self
            .provider
            .seal(version, &nonce, &aad, plaintext.as_bytes())?;
        let mut payload = Vec::with_capacity(NONCE_LEN + sealed.len());
        payload.extend_from_slice(&nonce);
        payload.extend_from_slice(&sealed);
        Ok(format!(
            "⟦PII:{}:k{}:{}⟧",
            kind.as_str(),
            version,
            URL_SAFE_NO_PAD.encode(&payload)
        ))
    }

    /// Opens one token (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`Error::InvalidToken`] for every kind of bad token; only a failing external key
    /// provider ([`Error::KeyProvider`]) is reported differently.
    pub fn open(&self, scope: &TokenScope, token: &str) -> Result<OpenedToken> {
        let token = token.trim();
        let m = match parse_token_at(token, 0) {
            Some(m) if m.end == token.len() => m,
            _ => return Err(Error::InvalidToken),
        };
        self.open_match(scope, token, &m)
    }

    fn open_match(&self, scope: &TokenScope, text: &str, m: &TokenMatch) -> Result<OpenedToken> {
        let payload_str = payload_of(text, m).ok_or(Error::InvalidToken)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload_str)
            .map_err(|_| Error::InvalidToken)?;
        if payload.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::InvalidToken);
        }
        let (nonce, sealed) = payload.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::InvalidToken)?;
        let aad = aad(scope, m.kind, m.version);
        let plain = match self.provider.open(m.version, &nonce, &aad, sealed) {
            Ok(p) => p,
            Err(e @ Error::KeyProvider(_)) => return Err(e),
            Err(_) => return Err(Error::InvalidToken),
        };
        let text = std::str::from_utf8(&plain).map_err(|_| Error::InvalidToken)?;
        Ok(OpenedToken {
            kind: m.kind,
            plaintext: Zeroizing::new(text.to_string()),
        })
    }

    /// Replaces every token in `text` with its plaintext (inside the tool boundary only).
    ///
    /// # Errors
    /// [`Error::InvalidToken`] if any token fails to open: half-decrypted text never leaves.
    pub fn detokenize_text(&self, scope: &TokenScope, text: &str) -> Result<Zeroizing<String>> {
        let mut out = Zeroizing::new(String::with_capacity(text.len()));
        let mut last = 0;
        for m in find_tokens(text) {
            out.push_str(&text[last..m.start]);
            let opened = self.open_match(scope, text, &m)?;
            out.push_str(&opened.plaintext);
            last = m.end;
        }
        out.push_str(&text[last..]);
        Ok(out)
    }

    /// Replaces every PII value the detector finds in `text` with a token; text already inside
    /// tokens is left alone (base64 can contain digit runs that look like phone numbers).
    ///
    /// # Errors
    /// As [`Vault::seal`].
    pub fn tokenize_text(&self, scope: &TokenScope, text: &str) -> Result<String> {
        let mut out = String::with_capacity(text.len() + 64);
        let mut last = 0;
        let tokens = find_tokens(text);
        let mut segments: Vec<(usize, usize)> = Vec::with_capacity(tokens.len() + 1);
        let mut seg_start = 0;
        for t in &tokens {
            segments.push((seg_start, t.start));
            seg_start = t.end;
        }
        segments.push((seg_start, text.len()));
        for (s, e) in segments {
            for d in detect(&text[s..e]) {
                out.push_str(&text[last..s + d.start]);
                out.push_str(&self.seal(scope, d.kind, &d.value)?);
                last = s + d.end;
            }
        }
        out.push_str(&text[last..]);
        Ok(out)
    }
}

/// Opens every token in `text` (free function form of [`Vault::detokenize_text`]).
///
/// # Errors
/// [`Error::InvalidToken`].
pub fn detokenize_text(vault: &Vault, scope: &TokenScope, text: &str) -> Result<Zeroizing<String>> {
    vault.detokenize_text(scope, text)
}

/// Tokenises detected PII in `text` (free function form of [`Vault::tokenize_text`]).
///
/// # Errors
/// As [`Vault::seal`].
pub fn tokenize_text(vault: &Vault, scope: &TokenScope, text: &str) -> Result<String> {
    vault.tokenize_text(scope, text)
}

/// `true` if `s` (trimmed) is exactly one syntactically valid token.
pub fn is_token(s: &str) -> bool {
    let s = s.trim();
    matches!(parse_token_at(s, 0), Some(m) if m.end == s.len())
}

/// Finds every syntactically valid token in `text`, in order. Accepts `⟦…⟧` and the ASCII
/// fallback `[[…]]` that models sometimes substitute.
pub fn find_tokens(text: &str) -> Vec<TokenMatch> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(rel) = text[from..].find("PII:") {
        let at = from + rel;
        let start = if text[..at].ends_with('⟦') {
            Some(at - '⟦'.len_utf8())
        } else if text[..at].ends_with("[[") {
            Some(at - 2)
        } else {
            None
        };
        if let Some(m) = start.and_then(|s| parse_token_at(text, s)) {
            out.push(m);
            from = m.end;
        } else {
            from = at + 4;
        }
    }
    out
}

/// Parses a token starting exactly at byte `start`.
fn parse_token_at(text: &str, start: usize) -> Option<TokenMatch> {
    let rest = text.get(start..)?;
    let (body, close) = if let Some(b) = rest.strip_prefix("⟦PII:") {
        (b, "⟧")
    } else if let Some(b) = rest.strip_prefix("[[PII:") {
        (b, "]]")
    } else {
        return None;
    };
    let open_len = rest.len() - body.len();
    let bytes = body.as_bytes();
    // KIND
    let kind_len = bytes
        .iter()
        .take_while(|b| b.is_ascii_uppercase() || **b == b'_')
        .count();
    let kind = PiiKind::from_name(&body[..kind_len])?;
    let mut i = kind_len;
    if bytes.get(i..i + 2)? != b":k" {
        return None;
    }
    i += 2;
    let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 9 || bytes[i] == b'0' {
        return None;
    }
    let version: u32 = body[i..i + digits].parse().ok()?;
    i += digits;
    if bytes.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let payload = bytes[i..]
        .iter()
        .take(MAX_PAYLOAD_CHARS + 1)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
        .count();
    if payload == 0 || payload > MAX_PAYLOAD_CHARS {
        return None;
    }
    i += payload;
    if !body[i..].starts_with(close) {
        return None;
    }
    Some(TokenMatch {
        start,
        end: start + open_len + i + close.len(),
        kind,
        version,
    })
}

fn payload_of<'a>(text: &'a str, m: &TokenMatch) -> Option<&'a str> {
    let inner = text.get(m.start..m.end)?;
    let inner = inner
        .strip_prefix("⟦")
        .and_then(|s| s.strip_suffix("⟧"))
        .or_else(|| inner.strip_prefix("[[").and_then(|s| s.strip_suffix("]]")))?;
    inner.rsplit(':').next()
}

/// AAD = domain tag || len-prefixed tenant || len-prefixed session || kind || version.
/// Length prefixes keep ("ab","c") and ("a","bc") apart.
fn aad(scope: &TokenScope, kind: PiiKind, version: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(48 + scope.tenant.len() + scope.session.len());
    v.extend_from_slice(b"zhiban-pii-token/v1");
    for part in [
        scope.tenant.as_bytes(),
        scope.session.as_bytes(),
        kind.as_str().as_bytes(),
    ] {
        v.extend_from_slice(&(part.len() as u32).to_be_bytes());
        v.extend_from_slice(part);
    }
    v.extend_from_slice(&version.to_be_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::Keyring;

    fn vault() -> Vault {
        Vault::new(Arc::new(Keyring::generate().unwrap()))
    }

    #[test]
    fn names_are_stable_and_serde_agrees() {
        for k in PiiKind::ALL {
            assert_eq!(PiiKind::from_name(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert_eq!(PiiKind::IdCard.as_str(), "ID_CARD");
    }

    #[test]
    fn seal_open_round_trip_and_shape() {
        let v = vault();
        let scope = TokenScope::new("shanghai", "s-1");
        let t = v
            .seal(&scope, PiiKind::IdCard, "110101199003074514")
            .unwrap();
        assert!(t.starts_with("⟦PII:ID_CARD:k1:") && t.ends_with('⟧'), "{t}");
        assert!(!t.contains("110101199003074514"));
        assert!(is_token(&t));
        let o = v.open(&scope, &format!("  {t}\n")).unwrap();
        assert_eq!(o.kind, PiiKind::IdCard);
        assert_eq!(o.plaintext.as_str(), "110101199003074514");
        assert!(!format!("{o:?}").contains("1101"));
        // Same plaintext twice gives different tokens (random nonce).
        assert_ne!(
            t,
            v.seal(&scope, PiiKind::IdCard, "110101199003074514")
                .unwrap()
        );
    }

    #[test]
    fn every_kind_of_bad_token_gets_the_same_error() {
        let v = vault();
        let scope = TokenScope::new("shanghai", "s-1");
        let t = v.seal(&scope, PiiKind::Mobile, "13912345678").unwrap();
        let cases = vec![
            (
                "other session",
                TokenScope::new("shanghai", "s-2"),
                t.clone(),
            ),
            ("other tenant", TokenScope::new("suzhou", "s-1"), t.clone()),
            (
                "relabelled kind",
                scope.clone(),
                t.replace("MOBILE", "LANDLINE"),
            ),
            ("other version", scope.clone(), t.replace(":k1:", ":k2:")),
            (
                "truncated",
                scope.clone(),
                format!("{}⟧", &t[..t.len() - 8]),
            ),
            ("no close", scope.clone(), t[..t.len() - 3].to_string()),
            (
                "empty payload",
                scope.clone(),
                "⟦PII:MOBILE:k1:⟧".to_string(),
            ),
            ("garbage", scope.clone(), "hello".to_string()),
            (
                "other vault",
                scope.clone(),
                vault().seal(&scope, PiiKind::Mobile, "1").unwrap(),
            ),
        ];
        for (name, sc, tok) in cases {
            assert!(
                matches!(v.open(&sc, &tok), Err(Error::InvalidToken)),
                "{name}: {tok}"
            );
        }
        // Flip each payload character.
        let body_start = t.rfind(':').unwrap() + 1;
        let body_end = t.len() - '⟧'.len_utf8();
        for i in body_start..body_end {
            let mut b = t.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(b).unwrap();
            if tampered != t {
                assert!(matches!(
                    v.open(&scope, &tampered),
                    Err(Error::InvalidToken)
                ));
            }
        }
    }

    #[test]
    fn tokens_are_found_inside_llm_text_in_both_bracket_styles() {
        let v = vault();
        let scope = TokenScope::new("t", "s");
        let a = v.seal(&scope, PiiKind::Name, "王小明").unwrap();
        let b = v
            .seal(&scope, PiiKind::IdCard, "11010519491231002X")
            .unwrap();
        let b_ascii = b.replace('⟦', "[[").replace('⟧', "]]");
        let text =
            format!("好的，申请人{a}（身份证{b_ascii}）的材料已收到。PII:junk ⟦PII:NOPE:k1:abc⟧");
        let found = find_tokens(&text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].kind, PiiKind::Name);
        assert_eq!(&text[found[1].start..found[1].end], b_ascii);
        let plain = v.detokenize_text(&scope, &text).unwrap();
        assert!(
            plain.contains("申请人王小明（身份证11010519491231002X）"),
            "{}",
            plain.as_str()
        );
        assert!(matches!(
            v.detokenize_text(&TokenScope::new("t", "other"), &text),
            Err(Error::InvalidToken)
        ));
    }

    #[test]
    fn tokenize_then_detokenize_restores_normalised_values() {
        let v = vault();
        let scope = TokenScope::new("t", "s");
        let text = "联系电话 138-1234-5678，身份证 11010519491231002X。";
        let tok = v.tokenize_text(&scope, text).unwrap();
        assert!(!tok.contains("5678") && !tok.contains("002X"), "{tok}");
        assert_eq!(find_tokens(&tok).len(), 2);
        // Tokenising again must not touch the existing tokens.
        assert_eq!(v.tokenize_text(&scope, &tok).unwrap(), tok);
        let back = v.detokenize_text(&scope, &tok).unwrap();
        assert_eq!(
            back.as_str(),
            "联系电话 13812345678，身份证 11010519491231002X。"
        );
    }

    #[test]
    fn aad_is_unambiguous() {
        assert_ne!(
            aad(&TokenScope::new("ab", "c"), PiiKind::Name, 1),
            aad(&TokenScope::new("a", "bc"), PiiKind::Name, 1)
        );
    }
}
