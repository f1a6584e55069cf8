//! Property tests: tokens fail uniformly and never panic; the detector never panics and always
//! finds valid (synthetic) IDs and mobiles wherever they are embedded.

use std::sync::Arc;

use proptest::prelude::*;
use zhiban_pii::crypto::{Sm2PrivateKey, sm2_decrypt};
use zhiban_pii::detect::{detect, resident_id_check_char};
use zhiban_pii::{Error, Keyring, PiiKind, TokenScope, Vault, find_tokens};

fn vault() -> &'static Vault {
    static V: std::sync::OnceLock<Vault> = std::sync::OnceLock::new();
    V.get_or_init(|| Vault::new(Arc::new(Keyring::generate().unwrap())))
}

fn scope() -> TokenScope {
    TokenScope::new("shanghai", "prop-session")
}

/// A synthetic resident ID (fictional person): region, birth date 1930–2010, sequence, checksum.
fn synthetic_id() -> impl Strategy<Value = String> {
    (1u32..=6, 0u32..100_000, 0i64..29_000, 0u32..1000).prop_map(|(d0, region, days, seq)| {
        let date =
            chrono::NaiveDate::from_ymd_opt(1930, 1, 1).unwrap() + chrono::Duration::days(days);
        let body = format!("{d0}{region:05}{}{seq:03}", date.format("%Y%m%d"));
        let check = resident_id_check_char(&body).unwrap();
        format!("{body}{check}")
    })
}

fn fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
            'X' => 'Ｘ',
            other => other,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_opens_and_never_panics(s in ".{0,200}") {
        prop_assert!(matches!(vault().open(&scope(), &s), Err(Error::InvalidToken)));
    }

    #[test]
    fn random_payloads_in_token_syntax_get_the_uniform_error(
        kind in prop::sample::select(PiiKind::ALL.to_vec()),
        version in 1u32..5,
        payload in "[A-Za-z0-9_-]{1,120}",
    ) {
        let token = format!("⟦PII:{}:k{version}:{payload}⟧", kind.as_str());
        prop_assert!(matches!(vault().open(&scope(), &token), Err(Error::InvalidToken)));
    }

    #[test]
    fn random_bytes_as_payload_get_the_uniform_error(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        use base64::Engine;
        let token = format!(
            "⟦PII:NAME:k1:{}⟧",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes)
        );
        prop_assert!(matches!(vault().open(&scope(), &token), Err(Error::InvalidToken)));
    }

    #[test]
    fn mutated_tokens_never_open_to_something_else(pos in any::<prop::sample::Index>(), byte in 0x21u8..0x7f) {
        let token = vault().seal(&scope(), PiiKind::Mobile, "13912345678").unwrap();
        let mut chars: Vec<char> = token.chars().collect();
        let i = pos.index(chars.len());
        chars[i] = char::from(byte);
        let mutated: String = chars.into_iter().collect();
        match vault().open(&scope(), &mutated) {
            Ok(o) => {
                // Only an identity mutation may open, and then to the same value.
                prop_assert_eq!(&mutated, &token);
                prop_assert_eq!(o.plaintext.as_str(), "13912345678");
            }
            Err(e) => prop_assert!(matches!(e, Error::InvalidToken)),
        }
    }

    #[test]
    fn truncated_tokens_never_open(cut in 1usize..60) {
        let token = vault().seal(&scope(), PiiKind::IdCard, "11010519491231002X").unwrap();
        let chars: Vec<char> = token.chars().collect();
        let keep = chars.len().saturating_sub(cut);
        let truncated: String = chars[..keep].iter().collect();
        prop_assert!(matches!(vault().open(&scope(), &truncated), Err(Error::InvalidToken)));
        let reclosed = format!("{}⟧", chars[..keep.saturating_sub(1)].iter().collect::<String>());
        prop_assert!(matches!(vault().open(&scope(), &reclosed), Err(Error::InvalidToken)));
    }

    #[test]
    fn detector_and_token_scanner_never_panic(s in any::<String>()) {
        let found = detect(&s);
        let mut last_end = 0;
        for d in &found {
            prop_assert!(d.start >= last_end && d.start < d.end && d.end <= s.len());
            prop_assert!(s.is_char_boundary(d.start) && s.is_char_boundary(d.end));
            last_end = d.end;
        }
        for t in find_tokens(&s) {
            prop_assert!(s.is_char_boundary(t.start) && s.is_char_boundary(t.end));
        }
        let _ = vault().tokenize_text(&scope(), &s).unwrap();
    }

    #[test]
    fn generated_ids_are_always_found(
        id in synthetic_id(),
        style in 0u8..4,
        prefix in "[\\p{Han}a-z ，]{0,12}",
        suffix in ".{0,12}",
    ) {
        let shown = match style {
            0 => id.clone(),
            1 => format!("{} {} {}", &id[..6], &id[6..14], &id[14..]),
            2 => fullwidth(&id),
            _ => id.to_lowercase(),
        };
        let text = format!("{prefix}：{shown}。{suffix}");
        let found = detect(&text);
        let hit = found.iter().find(|d| d.kind == PiiKind::IdCard);
        prop_assert!(hit.is_some(), "not found in {:?}", text);
        let hit = hit.unwrap();
        prop_assert_eq!(hit.value.as_str(), id.as_str());
        prop_assert_eq!(&text[hit.start..hit.end], shown.as_str());
    }

    #[test]
    fn generated_mobiles_are_always_found(second in 3u8..=9, rest in 0u64..1_000_000_000, grouped in any::<bool>()) {
        let m = format!("1{second}{rest:09}");
        let shown = if grouped { format!("{}-{}-{}", &m[..3], &m[3..7], &m[7..]) } else { m.clone() };
        let text = format!("请拨打{shown}联系");
        let found = detect(&text);
        prop_assert_eq!(found.len(), 1);
        prop_assert_eq!(found[0].kind, PiiKind::Mobile);
        prop_assert_eq!(&text[found[0].start..found[0].end], shown.as_str());
    }

    #[test]
    fn tokenize_detokenize_round_trips_plain_values(id in synthetic_id(), prefix in "[\\p{Han}]{0,8}") {
        let text = format!("{prefix}，证件号{id}，谢谢");
        let tokenized = vault().tokenize_text(&scope(), &text).unwrap();
        prop_assert!(!tokenized.contains(&id));
        let back = vault().detokenize_text(&scope(), &tokenized).unwrap();
        prop_assert_eq!(back.as_str(), text.as_str());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sm2_decrypt_never_panics_on_garbage(bytes in prop::collection::vec(any::<u8>(), 0..200), lead in prop::sample::select(vec![0x04u8, 0x30, 0x02, 0x00, 0xff])) {
        static KEY: std::sync::OnceLock<Sm2PrivateKey> = std::sync::OnceLock::new();
        let key = KEY.get_or_init(|| Sm2PrivateKey::generate().unwrap());
        let mut ct = vec![lead];
        ct.extend_from_slice(&bytes);
        prop_assert!(matches!(sm2_decrypt(key, &ct), Err(Error::Decrypt)));
    }
}
