//! The PII guard at the model's wire: the last check before a text leaves for the model and
//! the first one on what comes back.
//!
//! The caller tokenises before it calls the model; this guard does not tokenise (it holds no
//! keys) but refuses to send a text in which the detector still finds plaintext PII, so one
//! forgotten `seal` becomes a fallback to the deterministic path instead of a leak. On the way
//! back a model may invent or copy tokens from other sessions (to have the engine open them) and
//! may echo or make up numbers that look like IDs: foreign tokens are refused, plaintext PII is
//! masked.

use std::collections::BTreeSet;
use std::ops::Range;

use zhiban_pii::{PiiKind, detect, find_tokens};

use crate::mask::mask;

/// Why a text may not cross the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// Plaintext PII the detector found outside tokens (kinds only: the value is never kept).
    #[error("消息含有未加密的个人信息（{}），已拒绝发送给大模型", kinds_zh(.kinds))]
    PlaintextPii {
        /// Kinds found, deduplicated, in order of first appearance.
        kinds: Vec<PiiKind>,
    },
    /// A known name of the resident appears in plaintext.
    #[error("消息含有未加密的姓名，已拒绝发送给大模型")]
    KnownName,
    /// The model's output holds a token this conversation never sent.
    #[error("大模型输出中含有本次会话未签发的加密标记，已拒绝")]
    ForeignToken,
    /// The model's output holds something that starts like a token but is not one.
    #[error("大模型输出中含有损坏的加密标记，已拒绝")]
    BrokenToken,
}

fn kinds_zh(kinds: &[PiiKind]) -> String {
    kinds
        .iter()
        .map(|k| k.label_zh())
        .collect::<Vec<_>>()
        .join("、")
}

/// Byte ranges of the syntactically valid tokens in `text`.
fn token_spans(text: &str) -> Vec<Range<usize>> {
    find_tokens(text)
        .into_iter()
        .map(|m| m.start..m.end)
        .collect()
}

fn overlaps(spans: &[Range<usize>], start: usize, end: usize) -> bool {
    spans.iter().any(|s| start < s.end && s.start < end)
}

/// Detections outside tokens: a token's payload may hold digit runs that pass a checksum by
/// chance, and it is ciphertext, not PII.
fn plaintext_pii(text: &str) -> Vec<zhiban_pii::Detection> {
    let spans = token_spans(text);
    detect(text)
        .into_iter()
        .filter(|d| !overlaps(&spans, d.start, d.end))
        .collect()
}

/// `text` if it may be sent to the model: no plaintext ID, mobile, landline, bank card or
/// credit code outside tokens.
///
/// # Errors
/// [`GuardError::PlaintextPii`] naming the kinds found.
pub fn outbound(text: &str) -> Result<String, GuardError> {
    let found = plaintext_pii(text);
    if found.is_empty() {
        return Ok(text.to_owned());
    }
    let mut kinds: Vec<PiiKind> = Vec::new();
    for d in &found {
        if !kinds.contains(&d.kind) {
            kinds.push(d.kind);
        }
    }
    Err(GuardError::PlaintextPii { kinds })
}

/// As [`outbound`], and also refuses a text in which one of `known_names` (the session's
/// plaintext names, which no detector can find) appears outside tokens. One-character names are
/// skipped: they occur inside ordinary words.
///
/// # Errors
/// [`GuardError::PlaintextPii`], [`GuardError::KnownName`].
pub fn outbound_with_names(text: &str, known_names: &[&str]) -> Result<String, GuardError> {
    let out = outbound(text)?;
    let spans = token_spans(text);
    for name in known_names {
        let name = name.trim();
        if name.chars().count() < 2 {
            continue;
        }
        let hit = text
            .match_indices(name)
            .any(|(at, m)| !overlaps(&spans, at, at + m.len()));
        if hit {
            return Err(GuardError::KnownName);
        }
    }
    Ok(out)
}

/// What [`inbound_report`] made of a model output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The output, tokens in their canonical `⟦…⟧` form, plaintext PII masked.
    pub text: String,
    /// How many plaintext PII values were masked.
    pub masked: usize,
}

/// `model_output` with plaintext PII masked, if every token in it is one of `allowed_tokens`
/// (the tokens sent to the model in this conversation).
///
/// # Errors
/// [`GuardError::ForeignToken`], [`GuardError::BrokenToken`].
pub fn inbound(
    model_output: &str,
    allowed_tokens: &BTreeSet<String>,
) -> Result<String, GuardError> {
    inbound_report(model_output, allowed_tokens).map(|r| r.text)
}

/// As [`inbound`], also saying how many values were masked (a value the model had to have
/// masked is usually not worth keeping).
///
/// # Errors
/// As [`inbound`].
pub fn inbound_report(
    model_output: &str,
    allowed_tokens: &BTreeSet<String>,
) -> Result<Inbound, GuardError> {
    // Models sometimes rewrite ⟦…⟧ as [[…]]; the token is the same, and the engine only
    // understands the canonical form.
    let mut canon = String::with_capacity(model_output.len());
    let mut from = 0;
    for m in find_tokens(model_output) {
        canon.push_str(&model_output[from..m.start]);
        let raw = &model_output[m.start..m.end];
        let token = if raw.starts_with("[[") && raw.ends_with("]]") {
            format!("⟦{}⟧", &raw[2..raw.len() - 2])
        } else {
            raw.to_owned()
        };
        if !allowed_tokens.contains(&token) {
            return Err(GuardError::ForeignToken);
        }
        canon.push_str(&token);
        from = m.end;
    }
    canon.push_str(&model_output[from..]);

    let spans = token_spans(&canon);
    let outside: String = {
        let mut s = String::new();
        let mut at = 0;
        for r in &spans {
            s.push_str(&canon[at..r.start]);
            at = r.end;
        }
        s.push_str(&canon[at..]);
        s
    };
    if outside.contains("PII:") {
        return Err(GuardError::BrokenToken);
    }

    let found = plaintext_pii(&canon);
    if found.is_empty() {
        return Ok(Inbound {
            text: canon,
            masked: 0,
        });
    }
    let mut text = String::with_capacity(canon.len());
    let mut at = 0;
    for d in &found {
        text.push_str(&canon[at..d.start]);
        text.push_str(&mask(d.kind, &d.value));
        at = d.end;
    }
    text.push_str(&canon[at..]);
    Ok(Inbound {
        text,
        masked: found.len(),
    })
}

/// Every token in `text`, canonical form, for the allowed set of [`inbound`].
pub fn tokens_in(text: &str) -> impl Iterator<Item = String> + '_ {
    find_tokens(text).into_iter().map(move |m| {
        let raw = &text[m.start..m.end];
        if raw.starts_with("[[") && raw.ends_with("]]") {
            format!("⟦{}⟧", &raw[2..raw.len() - 2])
        } else {
            raw.to_owned()
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;
    use zhiban_pii::{Keyring, TokenScope, Vault};

    use super::*;

    // Synthetic, checksum-valid IDs of fictional people (GB 11643).
    const ID: &str = "11010519491231002X";
    const MOBILE: &str = "13912345678";

    fn vault() -> (Vault, TokenScope) {
        let kr = Keyring::generate().expect("keyring");
        (
            Vault::new(Arc::new(kr)),
            TokenScope::new("shanghai", "s-guard"),
        )
    }

    #[test]
    fn outbound_refuses_plaintext_and_passes_tokens() {
        let err = outbound(&format!("我的身份证是{ID}，电话{MOBILE}")).unwrap_err();
        assert_eq!(
            err,
            GuardError::PlaintextPii {
                kinds: vec![PiiKind::IdCard, PiiKind::Mobile]
            }
        );
        assert!(!err.to_string().contains(ID));
        let (v, scope) = vault();
        let sealed = v
            .tokenize_text(&scope, &format!("我的身份证是{ID}，电话{MOBILE}"))
            .expect("seal");
        assert_eq!(outbound(&sealed).as_deref(), Ok(sealed.as_str()));
        assert_eq!(
            outbound("失业时间是2025年3月5日，月收入4200元").map(|_| ()),
            Ok(())
        );
    }

    #[test]
    fn known_names_are_refused_outside_tokens_only() {
        assert_eq!(
            outbound_with_names("申请人王晓梅的失业登记", &["王晓梅"]),
            Err(GuardError::KnownName)
        );
        assert!(outbound_with_names("申请人的失业登记", &["王晓梅", "王"]).is_ok());
        assert!(outbound_with_names("好的", &[" ", ""]).is_ok());
    }

    #[test]
    fn inbound_rejects_foreign_tokens_and_canonicalises() {
        let (v, scope) = vault();
        let mine = v.seal(&scope, PiiKind::Mobile, MOBILE).expect("seal");
        let other = v
            .seal(
                &TokenScope::new("shanghai", "other"),
                PiiKind::Mobile,
                MOBILE,
            )
            .expect("seal");
        let allowed: BTreeSet<String> = [mine.clone()].into();
        assert_eq!(
            inbound(&format!("电话是{mine}"), &allowed).as_deref(),
            Ok(format!("电话是{mine}").as_str())
        );
        assert_eq!(
            inbound(&format!("电话是{other}"), &allowed),
            Err(GuardError::ForeignToken)
        );
        let ascii = format!("[[{}]]", &mine['⟦'.len_utf8()..mine.len() - '⟧'.len_utf8()]);
        assert_eq!(
            inbound(&format!("电话是{ascii}"), &allowed).as_deref(),
            Ok(format!("电话是{mine}").as_str())
        );
        let broken = &mine[..mine.len() - '⟧'.len_utf8() - 3];
        assert_eq!(inbound(broken, &allowed), Err(GuardError::BrokenToken));
    }

    #[test]
    fn inbound_masks_plaintext_pii() {
        let r = inbound_report(&format!("您的证件号{ID}已核对"), &BTreeSet::new()).expect("ok");
        assert_eq!(r.masked, 1);
        assert!(!r.text.contains(ID));
        assert!(r.text.contains("110105********002X"));
        assert!(detect(&r.text).is_empty());
    }

    proptest! {
        // Whatever the model says, what passes inbound holds no detectable plaintext PII.
        #[test]
        fn inbound_output_never_holds_plaintext(s in "[0-9０-９ \\-a-z年月日，是的]{0,60}") {
            if let Ok(t) = inbound(&s, &BTreeSet::new()) {
                prop_assert!(detect(&t).is_empty());
            }
        }

        #[test]
        fn outbound_is_identity_or_refusal(s in "[0-9 \\-张王李年月日]{0,40}") {
            match outbound(&s) {
                Ok(t) => prop_assert_eq!(t, s),
                Err(GuardError::PlaintextPii { kinds }) => prop_assert!(!kinds.is_empty()),
                Err(e) => prop_assert!(false, "unexpected {e:?}"),
            }
        }
    }
}
