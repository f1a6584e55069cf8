//! Masked display forms of PII (`310110********7714`, `张*`, `138****5678`), computed once when a
//! value is sealed, so that showing a reply never needs a decryption.

use zhiban_pii::PiiKind;

/// The display form of `plain`, a value of `kind`.
pub fn mask(kind: PiiKind, plain: &str) -> String {
    let chars: Vec<char> = plain.trim().chars().collect();
    let n = chars.len();
    let keep = |head: usize, tail: usize| -> String {
        if n <= head + tail {
            return "*".repeat(n.max(1));
        }
        let mut s: String = chars[..head].iter().collect();
        s.push_str(&"*".repeat(n - head - tail));
        s.extend(&chars[n - tail..]);
        s
    };
    match kind {
        PiiKind::Name => match chars.first() {
            Some(c) => format!("{c}{}", "*".repeat(n.saturating_sub(1).max(1))),
            None => "*".into(),
        },
        PiiKind::IdCard | PiiKind::LegacyIdCard => keep(6, 4),
        PiiKind::Mobile => keep(3, 4),
        PiiKind::Landline => keep(3, 2),
        PiiKind::BankCard => keep(4, 4),
        PiiKind::CreditCode => keep(4, 4),
        PiiKind::Address => {
            let head: String = chars.iter().take(6).collect();
            format!("{head}****")
        }
        PiiKind::Other => "****".into(),
    }
}

/// A placeholder for a token whose display form this session does not hold.
pub fn placeholder(kind: PiiKind) -> String {
    format!("[{}已加密]", kind.label_zh())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_examples() {
        assert_eq!(
            mask(PiiKind::IdCard, "310110198503127714"),
            "310110********7714"
        );
        assert_eq!(mask(PiiKind::Name, "张三"), "张*");
        assert_eq!(mask(PiiKind::Name, "欧阳娜娜"), "欧***");
        assert_eq!(mask(PiiKind::Mobile, "13812345678"), "138****5678");
        assert_eq!(
            mask(PiiKind::BankCard, "6222020200112233445"),
            "6222***********3445"
        );
    }

    #[test]
    fn short_values_are_masked_whole() {
        assert_eq!(mask(PiiKind::IdCard, "1234"), "****");
        assert_eq!(mask(PiiKind::Name, ""), "*");
    }
}
