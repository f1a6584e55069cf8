//! API keys: issued once, stored only as verifiers, in one JSON file that every replica reads.
//!
//! A key is `zb_<key id>_<secret>`. The file keeps the key id (to find the entry without
//! scanning), a random salt and `SM3(salt ‖ key)` — enough to check a presented key, useless
//! for presenting one. Clients that sign requests (HMAC-SM3, `zhiban_pii::signing`) sign with
//! `HMAC-SM3(key, "zhiban-request-signing-v1")`; the file holds that derived signing key, so a
//! stolen file lets nobody authenticate, and a leaked signing key alone opens nothing either.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use zhiban_pii::crypto::{hmac_sm3, random_bytes, sm3_hex};

/// The label the signing key is derived under.
pub const SIGNING_LABEL: &[u8] = b"zhiban-request-signing-v1";

/// A role: what kind of client a key belongs to (contract: "The production service").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The MAP platform: sessions, messages, tools, chat completions.
    Map,
    /// Clerks: `/v1/qa`, sessions (the clerk page).
    Clerk,
    /// Operators: everything.
    Admin,
    /// Data staff: ingest and snapshots.
    Data,
    /// QA: `/v1/qa`, sessions, evals.
    Qa,
}

impl Role {
    /// Parses `map`, `clerk`, `admin`, `data`, `qa`.
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim() {
            "map" => Some(Role::Map),
            "clerk" => Some(Role::Clerk),
            "admin" => Some(Role::Admin),
            "data" => Some(Role::Data),
            "qa" => Some(Role::Qa),
            _ => None,
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Map => "map",
            Role::Clerk => "clerk",
            Role::Admin => "admin",
            Role::Data => "data",
            Role::Qa => "qa",
        }
    }
}

/// One client's entry in the keys file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientKey {
    /// Client name (goes to the audit log).
    pub client: String,
    /// The key's public id (the middle part of the key).
    pub key_id: String,
    /// Hex salt.
    pub salt: String,
    /// `SM3(salt ‖ key)`, hex.
    pub verifier: String,
    /// `HMAC-SM3(key, SIGNING_LABEL)`, hex: what signed requests are checked with.
    pub signing_key: String,
    /// Roles.
    pub roles: BTreeSet<Role>,
    /// Agents this key may use; empty = all.
    #[serde(default)]
    pub agents: Vec<String>,
    /// Tool registry ids this key may call; empty = all.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Requests per minute; `None` = `[auth] rate_per_minute`.
    #[serde(default)]
    pub rate_per_minute: Option<u32>,
    /// Every request must carry a valid signature.
    #[serde(default)]
    pub require_signature: bool,
    /// When it was issued (RFC 3339).
    pub created: String,
    /// Revoked keys stay listed, so that the audit log's client names remain explained.
    #[serde(default)]
    pub revoked: bool,
}

impl ClientKey {
    /// Whether `key` is this entry's key (constant time in the verifier comparison).
    pub fn matches(&self, key: &str) -> bool {
        let Ok(salt) = hex::decode(&self.salt) else {
            return false;
        };
        let mut input = salt;
        input.extend_from_slice(key.as_bytes());
        let got = sm3_hex(&input);
        subtle_eq(got.as_bytes(), self.verifier.as_bytes())
    }

    /// The signing key bytes.
    pub fn signing_key_bytes(&self) -> Vec<u8> {
        hex::decode(&self.signing_key).unwrap_or_default()
    }
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The keys file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    /// Format version.
    #[serde(default = "one")]
    pub version: u32,
    /// Clients, in the order they were added.
    #[serde(default)]
    pub clients: Vec<ClientKey>,
}

fn one() -> u32 {
    1
}

/// Why the keys file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// Reading or writing failed.
    #[error("密钥文件 {path} 读写失败：{source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file does not parse.
    #[error("密钥文件 {path} 格式有误：{message}")]
    Format {
        /// File.
        path: String,
        /// Cause.
        message: String,
    },
    /// A request the CLI cannot fulfil.
    #[error("{0}")]
    Invalid(String),
    /// No randomness.
    #[error("无法取得随机数：{0}")]
    Random(String),
}

/// Who a new key is for.
#[derive(Debug, Clone, Default)]
pub struct NewKey {
    /// Client name.
    pub client: String,
    /// Roles.
    pub roles: BTreeSet<Role>,
    /// Agent scope (empty = all).
    pub agents: Vec<String>,
    /// Tool scope (empty = all).
    pub tools: Vec<String>,
    /// Requests per minute.
    pub rate_per_minute: Option<u32>,
    /// Signatures required.
    pub require_signature: bool,
}

impl KeysFile {
    /// Reads `path`; a missing file is an empty one.
    ///
    /// # Errors
    /// [`KeysError`] when the file exists but cannot be read or parsed.
    pub fn load(path: &Path) -> Result<KeysFile, KeysError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| KeysError::Format {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeysFile::default()),
            Err(e) => Err(KeysError::Io {
                path: path.display().to_string(),
                source: e,
            }),
        }
    }

    /// Writes the file atomically (a temporary file renamed over it), readable by its owner
    /// only.
    ///
    /// # Errors
    /// [`KeysError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), KeysError> {
        let io = |e: std::io::Error| KeysError::Io {
            path: path.display().to_string(),
            source: e,
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let text = serde_json::to_string_pretty(self).map_err(|e| KeysError::Format {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600))
                .map_err(io)?;
        }
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// Issues a key for `new` and returns it; only its verifier is kept.
    ///
    /// # Errors
    /// [`KeysError::Invalid`] for an empty or duplicate live client or no roles.
    pub fn add(&mut self, new: NewKey) -> Result<String, KeysError> {
        let client = new.client.trim().to_string();
        if client.is_empty()
            || client.len() > 64
            || !client
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(KeysError::Invalid(
                "客户端名称须为 1–64 个字母、数字或 - _ .".into(),
            ));
        }
        if new.roles.is_empty() {
            return Err(KeysError::Invalid(
                "至少要有一个角色：map、clerk、admin、data、qa".into(),
            ));
        }
        if self
            .clients
            .iter()
            .any(|c| c.client == client && !c.revoked)
        {
            return Err(KeysError::Invalid(format!(
                "客户端 {client} 已有有效密钥；先 zhiban keys revoke {client}"
            )));
        }
        let rand = |n: usize| -> Result<String, KeysError> {
            let mut b = vec![0u8; n];
            random_bytes(&mut b).map_err(|e| KeysError::Random(e.to_string()))?;
            Ok(hex::encode(b))
        };
        let key_id = rand(6)?;
        let key = format!("zb_{key_id}_{}", rand(20)?);
        let salt = rand(16)?;
        let mut input = hex::decode(&salt).unwrap_or_default();
        input.extend_from_slice(key.as_bytes());
        self.clients.push(ClientKey {
            client,
            key_id,
            verifier: sm3_hex(&input),
            salt,
            signing_key: hex::encode(signing_key_of(&key)),
            roles: new.roles,
            agents: new.agents,
            tools: new.tools,
            rate_per_minute: new.rate_per_minute,
            require_signature: new.require_signature,
            created: chrono::Utc::now().to_rfc3339(),
            revoked: false,
        });
        Ok(key)
    }

    /// Revokes every live key of `client`; returns how many.
    pub fn revoke(&mut self, client: &str) -> usize {
        let mut n = 0;
        for c in self.clients.iter_mut().filter(|c| c.client == client) {
            if !c.revoked {
                c.revoked = true;
                n += 1;
            }
        }
        n
    }

    /// The live entry a presented key belongs to.
    pub fn find(&self, key: &str) -> Option<&ClientKey> {
        let key_id = key.strip_prefix("zb_")?.split('_').next()?;
        self.clients
            .iter()
            .find(|c| !c.revoked && c.key_id == key_id && c.matches(key))
    }

    /// Whether any live key exists (otherwise the service runs in development mode).
    pub fn has_live(&self) -> bool {
        self.clients.iter().any(|c| !c.revoked)
    }
}

/// The signing key a client derives from its API key.
pub fn signing_key_of(key: &str) -> [u8; 32] {
    hmac_sm3(key.as_bytes(), SIGNING_LABEL)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(r: &[Role]) -> BTreeSet<Role> {
        r.iter().copied().collect()
    }

    #[test]
    fn a_key_opens_its_own_entry_only_and_not_after_revocation() {
        let mut f = KeysFile::default();
        let a = f
            .add(NewKey {
                client: "map".into(),
                roles: roles(&[Role::Map]),
                ..NewKey::default()
            })
            .unwrap();
        let b = f
            .add(NewKey {
                client: "clerk-1".into(),
                roles: roles(&[Role::Clerk]),
                ..NewKey::default()
            })
            .unwrap();
        assert_eq!(f.find(&a).unwrap().client, "map");
        assert_eq!(f.find(&b).unwrap().client, "clerk-1");
        // Same key id, wrong secret.
        let mut forged = a.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == '0' { '1' } else { '0' });
        assert!(f.find(&forged).is_none());
        assert!(f.find("zb_nothing_here").is_none());
        assert!(f.find("").is_none());
        // The file never holds the key.
        let text = serde_json::to_string(&f).unwrap();
        assert!(!text.contains(&a) && !text.contains(&a[16..]));
        assert_eq!(f.revoke("map"), 1);
        assert!(f.find(&a).is_none());
        assert!(f.find(&b).is_some());
    }

    #[test]
    fn bad_clients_are_refused_in_chinese() {
        let mut f = KeysFile::default();
        let e = f
            .add(NewKey {
                client: "a b".into(),
                roles: roles(&[Role::Map]),
                ..NewKey::default()
            })
            .unwrap_err();
        assert!(e.to_string().contains("客户端名称"));
        let e = f
            .add(NewKey {
                client: "x".into(),
                ..NewKey::default()
            })
            .unwrap_err();
        assert!(e.to_string().contains("角色"));
        f.add(NewKey {
            client: "x".into(),
            roles: roles(&[Role::Qa]),
            ..NewKey::default()
        })
        .unwrap();
        assert!(
            f.add(NewKey {
                client: "x".into(),
                roles: roles(&[Role::Qa]),
                ..NewKey::default()
            })
            .is_err()
        );
    }

    #[test]
    fn the_file_round_trips_through_disk() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keys.json");
        assert_eq!(KeysFile::load(&p).unwrap(), KeysFile::default());
        let mut f = KeysFile::default();
        let k = f
            .add(NewKey {
                client: "qa".into(),
                roles: roles(&[Role::Qa, Role::Clerk]),
                rate_per_minute: Some(5),
                ..NewKey::default()
            })
            .unwrap();
        f.save(&p).unwrap();
        let g = KeysFile::load(&p).unwrap();
        assert_eq!(f, g);
        assert_eq!(g.find(&k).unwrap().rate_per_minute, Some(5));
        std::fs::write(&p, "{not json").unwrap();
        assert!(
            KeysFile::load(&p)
                .unwrap_err()
                .to_string()
                .contains("格式有误")
        );
    }
}
