//! Versioned SM4 keys for PII tokens: the current version seals, every version opens.
//!
//! The embedded default keeps a local keyring file (created on first run with 0600 permissions)
//! or reads one from `ZHIBAN_PII__KEYRING`; production can plug an external KMS or cipher
//! machine in through [`KeyProvider`], which performs the SM4-GCM operation itself so keys
//! never leave it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sm4::cipher::{Array, KeyInit};
use zeroize::Zeroizing;

use crate::crypto::{Sm4Gcm, gcm_open, gcm_seal};
use crate::crypto::{decode_hex, random_bytes};
use crate::error::{Error, Result};

/// Environment variable holding a keyring for the embedded default (JSON, or `1:HEX,2:HEX`).
pub const KEYRING_ENV: &str = "ZHIBAN_PII__KEYRING";
/// File name of the local keyring inside the data directory the app passes (`./var/`).
pub const KEYRING_FILE_NAME: &str = "pii-keyring.json";
const FORMAT: &str = "zhiban-pii-keyring/v1";

/// Performs SM4-GCM under a versioned key. Implement this for an external KMS or a cipher
/// machine (密码机); [`Keyring`] is the local implementation.
///
/// The methods are synchronous. A provider that waits on a network or a device must say so with
/// [`KeyProvider::blocking`] (the default), and then the tool runtime calls it only on the
/// blocking pool, under a deadline — never on an async worker.
pub trait KeyProvider: Send + Sync {
    /// The version new tokens are sealed with.
    fn current_version(&self) -> u32;

    /// Whether [`seal`](KeyProvider::seal) and [`open`](KeyProvider::open) may block (network,
    /// hardware). Defaults to `true`; an in-memory implementation returns `false` so that its
    /// microsecond calls run inline.
    fn blocking(&self) -> bool {
        true
    }

    /// Encrypts `plaintext` under key `version`; returns ciphertext || 16-byte tag.
    ///
    /// # Errors
    /// [`Error::UnknownKeyVersion`] or a provider failure.
    fn seal(&self, version: u32, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8])
    -> Result<Vec<u8>>;

    /// Decrypts ciphertext || tag under key `version`, checking the tag first.
    ///
    /// # Errors
    /// [`Error::UnknownKeyVersion`], [`Error::Decrypt`] or a provider failure.
    fn open(
        &self,
        version: u32,
        nonce: &[u8; 12],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>>;
}

struct Slot {
    key: Zeroizing<[u8; 16]>,
    created: String,
    // Keyed once: the SM4 key schedule is a measurable part of a token operation.
    cipher: Sm4Gcm,
}

/// A local, versioned set of 128-bit SM4 keys.
pub struct Keyring {
    current: u32,
    slots: BTreeMap<u32, Slot>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("versions", &self.versions())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct KeyringFile {
    format: String,
    current: u32,
    keys: Vec<KeyEntry>,
}

#[derive(Serialize, Deserialize)]
struct KeyEntry {
    version: u32,
    key: String,
    #[serde(default)]
    created: String,
}

/// Where [`Keyring::load_or_create`] found its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringOrigin {
    /// From the `ZHIBAN_PII__KEYRING` environment variable.
    Environment,
    /// Loaded from an existing file.
    File(PathBuf),
    /// Freshly generated and written to this file (first run).
    Created(PathBuf),
}

impl Keyring {
    /// A new keyring holding one random key, version 1.
    ///
    /// # Errors
    /// [`Error::Rng`].
    pub fn generate() -> Result<Self> {
        let mut ring = Keyring {
            current: 0,
            slots: BTreeMap::new(),
        };
        ring.rotate()?;
        Ok(ring)
    }

    /// Builds a keyring from explicit keys; `current` must be one of them.
    ///
    /// # Errors
    /// [`Error::UnknownKeyVersion`] if `current` is missing; [`Error::KeyringFormat`] for version 0.
    pub fn from_keys(
        current: u32,
        keys: impl IntoIterator<Item = (u32, [u8; 16])>,
    ) -> Result<Self> {
        let mut slots = BTreeMap::new();
        for (version, key) in keys {
            if version == 0 {
                return Err(Error::KeyringFormat {
                    source_name: "from_keys".into(),
                    reason: "密钥版本从 1 开始",
                });
            }
            slots.insert(version, slot(Zeroizing::new(key), now()));
        }
        if !slots.contains_key(&current) {
            return Err(Error::UnknownKeyVersion(current));
        }
        Ok(Keyring { current, slots })
    }

    /// Adds a fresh random key with the next version and makes it current; returns the version.
    /// Old versions stay so existing tokens still open.
    ///
    /// # Errors
    /// [`Error::Rng`].
    pub fn rotate(&mut self) -> Result<u32> {
        let mut key = Zeroizing::new([0u8; 16]);
        random_bytes(key.as_mut_slice())?;
        let version = self.slots.keys().next_back().copied().unwrap_or(0) + 1;
        self.slots.insert(version, slot(key, now()));
        self.current = version;
        Ok(version)
    }

    /// Drops an old version (after all its tokens have expired). The current version cannot be retired.
    ///
    /// # Errors
    /// [`Error::UnknownKeyVersion`] if absent or current.
    pub fn retire(&mut self, version: u32) -> Result<()> {
        if version == self.current || self.slots.remove(&version).is_none() {
            return Err(Error::UnknownKeyVersion(version));
        }
        Ok(())
    }

    /// All versions held, ascending.
    pub fn versions(&self) -> Vec<u32> {
        self.slots.keys().copied().collect()
    }

    /// Parses the JSON keyring format; `source_name` names the file or variable in errors.
    ///
    /// # Errors
    /// [`Error::KeyringFormat`].
    pub fn from_json(json: &str, source_name: &str) -> Result<Self> {
        let bad = |reason| Error::KeyringFormat {
            source_name: source_name.to_string(),
            reason,
        };
        let file: KeyringFile =
            serde_json::from_str(json).map_err(|_| bad("不是有效的密钥环 JSON"))?;
        if file.format != FORMAT {
            return Err(bad("format 字段应为 zhiban-pii-keyring/v1"));
        }
        let mut slots = BTreeMap::new();
        for entry in file.keys {
            let raw = Zeroizing::new(
                decode_hex("密钥", &entry.key).map_err(|_| bad("密钥不是十六进制"))?,
            );
            let key: [u8; 16] = raw
                .as_slice()
                .try_into()
                .map_err(|_| bad("每把密钥必须是 16 字节"))?;
            if entry.version == 0 || slots.contains_key(&entry.version) {
                return Err(bad("密钥版本必须从 1 开始且不重复"));
            }
            slots.insert(entry.version, slot(Zeroizing::new(key), entry.created));
        }
        if !slots.contains_key(&file.current) {
            return Err(bad("current 指向的版本不存在"));
        }
        Ok(Keyring {
            current: file.current,
            slots,
        })
    }

    /// Serialises to the JSON keyring format (contains key material: handle as a secret).
    ///
    /// # Errors
    /// [`Error::Json`] (not expected).
    pub fn to_json(&self) -> Result<Zeroizing<String>> {
        let file = KeyringFile {
            format: FORMAT.to_string(),
            current: self.current,
            keys: self
                .slots
                .iter()
                .map(|(v, s)| KeyEntry {
                    version: *v,
                    key: hex::encode(s.key.as_slice()),
                    created: s.created.clone(),
                })
                .collect(),
        };
        let json = Zeroizing::new(serde_json::to_string_pretty(&file)?);
        // The intermediate hex strings in `file` are dropped here; they are short-lived copies.
        Ok(json)
    }

    /// Parses the environment-variable form: the JSON format, or `1:HEX,2:HEX` where the
    /// highest version is current.
    ///
    /// # Errors
    /// [`Error::KeyringFormat`].
    pub fn from_env_value(value: &str) -> Result<Self> {
        let value = value.trim();
        if value.starts_with('{') {
            return Self::from_json(value, KEYRING_ENV);
        }
        let bad = |reason| Error::KeyringFormat {
            source_name: KEYRING_ENV.to_string(),
            reason,
        };
        let mut keys = Vec::new();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (v, k) = part
                .split_once(':')
                .ok_or(bad("每项应为 版本:十六进制密钥"))?;
            let v: u32 = v
                .trim()
                .trim_start_matches('k')
                .parse()
                .map_err(|_| bad("版本号必须是正整数"))?;
            let raw = Zeroizing::new(decode_hex("密钥", k).map_err(|_| bad("密钥不是十六进制"))?);
            let key: [u8; 16] = raw
                .as_slice()
                .try_into()
                .map_err(|_| bad("每把密钥必须是 16 字节"))?;
            keys.push((v, key));
        }
        let current = keys
            .iter()
            .map(|(v, _)| *v)
            .max()
            .ok_or(bad("没有任何密钥"))?;
        Self::from_keys(current, keys).map_err(|_| bad("密钥版本必须从 1 开始"))
    }

    /// Loads a keyring file, warning if other users can read it.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::KeyringFormat`].
    pub fn load_file(path: &Path) -> Result<Self> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path)
                && meta.permissions().mode() & 0o077 != 0
            {
                tracing::warn!(path = %path.display(), "PII 密钥环文件权限过宽，建议 chmod 600");
            }
        }
        Self::from_json(&text, &path.display().to_string())
    }

    /// Writes the keyring atomically (temp file + rename) with 0600 permissions.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save_file(&self, path: &Path) -> Result<()> {
        let json = self.to_json()?;
        write_secret_atomically(path, json.as_bytes())
    }

    /// Rotates the keyring stored at `path` and writes it back atomically; returns the new
    /// current version. Tokens sealed under older versions keep opening.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::KeyringFormat`], [`Error::Rng`].
    pub fn rotate_file(path: &Path) -> Result<u32> {
        let mut ring = Self::load_file(path)?;
        let version = ring.rotate()?;
        ring.save_file(path)?;
        tracing::info!(path = %path.display(), version, "PII 密钥已轮换");
        Ok(version)
    }

    /// The embedded default: `ZHIBAN_PII__KEYRING` if set, else `dir/pii-keyring.json`, else a
    /// new keyring written there (0600) — logged, so operators know to back it up.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::KeyringFormat`]; a malformed variable or file is never replaced.
    pub fn load_or_create(dir: &Path) -> Result<(Self, KeyringOrigin)> {
        if let Ok(value) = std::env::var(KEYRING_ENV)
            && !value.trim().is_empty()
        {
            let value = Zeroizing::new(value);
            return Ok((Self::from_env_value(&value)?, KeyringOrigin::Environment));
        }
        Self::load_or_create_file(&dir.join(KEYRING_FILE_NAME))
    }

    /// Like [`Keyring::load_or_create`] but ignores the environment (tests and explicit paths).
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::KeyringFormat`].
    pub fn load_or_create_file(path: &Path) -> Result<(Self, KeyringOrigin)> {
        if path.exists() {
            return Ok((
                Self::load_file(path)?,
                KeyringOrigin::File(path.to_path_buf()),
            ));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let ring = Self::generate()?;
        let json = ring.to_json()?;
        // create_new: if another process created it meanwhile, load theirs instead of clobbering.
        match create_secret_file(path, json.as_bytes()) {
            Ok(()) => {
                tracing::warn!(
                    path = %path.display(),
                    "首次运行：已生成本地 PII 密钥环（权限 0600）。请备份此文件，切勿提交到版本库；丢失后已有令牌无法解密"
                );
                Ok((ring, KeyringOrigin::Created(path.to_path_buf())))
            }
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok((
                    Self::load_file(path)?,
                    KeyringOrigin::File(path.to_path_buf()),
                ))
            }
            Err(e) => Err(e),
        }
    }

    fn slot(&self, version: u32) -> Result<&Slot> {
        self.slots
            .get(&version)
            .ok_or(Error::UnknownKeyVersion(version))
    }
}

impl KeyProvider for Keyring {
    fn current_version(&self) -> u32 {
        self.current
    }

    fn blocking(&self) -> bool {
        false
    }

    fn seal(
        &self,
        version: u32,
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        gcm_seal(&self.slot(version)?.cipher, nonce, aad, plaintext)
    }

    fn open(
        &self,
        version: u32,
        nonce: &[u8; 12],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        gcm_open(&self.slot(version)?.cipher, nonce, aad, sealed)
    }
}

fn slot(key: Zeroizing<[u8; 16]>, created: String) -> Slot {
    let cipher = Sm4Gcm::new(&Array::from(*key));
    Slot {
        key,
        created,
        cipher,
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn open_options() -> std::fs::OpenOptions {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

fn create_secret_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = open_options()
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

pub(crate) fn write_secret_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = open_options()
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_old_versions_openable() {
        let mut ring = Keyring::generate().unwrap();
        let nonce = [1u8; 12];
        let v1 = ring.current_version();
        let sealed = ring.seal(v1, &nonce, b"aad", b"value").unwrap();
        let v2 = ring.rotate().unwrap();
        assert_eq!((v1, v2), (1, 2));
        assert_eq!(ring.current_version(), 2);
        assert_eq!(
            ring.open(1, &nonce, b"aad", &sealed).unwrap().as_slice(),
            b"value"
        );
        assert!(matches!(
            ring.open(2, &nonce, b"aad", &sealed),
            Err(Error::Decrypt)
        ));
        assert!(matches!(ring.retire(2), Err(Error::UnknownKeyVersion(2))));
        ring.retire(1).unwrap();
        assert!(matches!(
            ring.open(1, &nonce, b"aad", &sealed),
            Err(Error::UnknownKeyVersion(1))
        ));
    }

    #[test]
    fn json_and_env_forms_round_trip() {
        let mut ring = Keyring::generate().unwrap();
        ring.rotate().unwrap();
        let json = ring.to_json().unwrap();
        let back = Keyring::from_json(&json, "test").unwrap();
        assert_eq!(back.versions(), vec![1, 2]);
        assert_eq!(back.current_version(), 2);
        let nonce = [7u8; 12];
        let sealed = ring.seal(1, &nonce, b"", b"x").unwrap();
        assert_eq!(back.open(1, &nonce, b"", &sealed).unwrap().as_slice(), b"x");

        let env = Keyring::from_env_value(
            "1:00112233445566778899aabbccddeeff, k3:ffeeddccbbaa99887766554433221100",
        )
        .unwrap();
        assert_eq!(env.current_version(), 3);
        assert_eq!(env.versions(), vec![1, 3]);
        assert!(matches!(
            Keyring::from_env_value("1:0011"),
            Err(Error::KeyringFormat { .. })
        ));
        assert!(matches!(
            Keyring::from_env_value(""),
            Err(Error::KeyringFormat { .. })
        ));
        assert!(matches!(
            Keyring::from_json("{\"format\":\"x\",\"current\":1,\"keys\":[]}", "t"),
            Err(Error::KeyringFormat { .. })
        ));
        assert!(!format!("{ring:?}").contains(&json[40..60]));
    }

    #[test]
    fn first_run_creates_a_private_file_and_second_run_loads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("var").join(KEYRING_FILE_NAME);
        let (ring, origin) = Keyring::load_or_create_file(&path).unwrap();
        assert_eq!(origin, KeyringOrigin::Created(path.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, origin) = Keyring::load_or_create_file(&path).unwrap();
        assert_eq!(origin, KeyringOrigin::File(path.clone()));
        let nonce = [0u8; 12];
        let sealed = ring.seal(1, &nonce, b"", b"same key").unwrap();
        assert_eq!(
            again.open(1, &nonce, b"", &sealed).unwrap().as_slice(),
            b"same key"
        );

        assert_eq!(Keyring::rotate_file(&path).unwrap(), 2);
        let rotated = Keyring::load_file(&path).unwrap();
        assert_eq!(rotated.current_version(), 2);
        assert_eq!(
            rotated.open(1, &nonce, b"", &sealed).unwrap().as_slice(),
            b"same key"
        );

        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            Keyring::load_or_create_file(&path),
            Err(Error::KeyringFormat { .. })
        ));
    }
}
