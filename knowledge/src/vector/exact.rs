//! The embedded default vector store: every vector in one flat `f32` table, searched
//! exactly (brute force) under a filter.
//!
//! At the sizes a 社区事务受理 knowledge base reaches (≈ 13,000 chunks × 256
//! dimensions, 13 MB) one pass over the table costs about as much as a graph index
//! lookup, returns the true nearest neighbours rather than approximate ones, and
//! needs no index build. Filters are applied before scoring: a point that fails the
//! filter is never scored, so a narrow filter (`kind = guide`, a 事项编码) makes the
//! search cheaper, never less complete.
//!
//! On disk (inside the snapshot, checksummed by its manifest):
//!
//! ```text
//! vectors/
//!   exact.json    dim, point ids and the filterable payload, column by column
//!   exact.f32     the vectors, row-major, little-endian f32 (points × dim)
//! ```
//!
//! A reader loads both files straight into memory: no private copy, no lock file,
//! nothing written, so any number of readers (a server and a CLI) can open one
//! published snapshot at once.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use super::{VectorPayload, VectorPoint, VectorStore};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::lexical::day_number;

/// The header file of a store.
pub const HEADER_FILE: &str = "exact.json";
/// The vector table of a store.
pub const VECTORS_FILE: &str = "exact.f32";
const FORMAT: u32 = 1;

/// Payload columns, with strings interned so that filters compare integers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Columns {
    /// Distinct kinds; `kind[i]` indexes this list.
    kinds: Vec<String>,
    kind: Vec<u32>,
    /// Distinct departments (the empty string = none).
    departments: Vec<String>,
    department: Vec<u32>,
    /// Distinct 事项编码; the matters of point `i` are
    /// `matter[matter_start[i]..matter_start[i + 1]]`.
    matters: Vec<String>,
    matter_start: Vec<u32>,
    matter: Vec<u32>,
    valid_from: Vec<i64>,
    valid_until: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    format: u32,
    dim: usize,
    ids: Vec<u64>,
    columns: Columns,
}

#[derive(Debug, Default)]
struct Table {
    ids: Vec<u64>,
    /// `ids.len() × dim`, row-major, each row unit length.
    vectors: Vec<f32>,
    payloads: Vec<VectorPayload>,
    /// Columns derived from `payloads`; rebuilt after upserts.
    columns: Columns,
    position: HashMap<u64, usize>,
}

/// An exact in-process vector store. See the module docs.
pub struct ExactStore {
    dim: usize,
    /// Where [`VectorStore::flush`] writes; `None` for a store loaded read-only.
    dir: Option<PathBuf>,
    table: RwLock<Table>,
}

impl std::fmt::Debug for ExactStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactStore")
            .field("dim", &self.dim)
            .field("points", &self.read().ids.len())
            .finish()
    }
}

fn intern(names: &mut Vec<String>, index: &mut HashMap<String, u32>, value: &str) -> u32 {
    if let Some(&i) = index.get(value) {
        return i;
    }
    let i = names.len() as u32;
    names.push(value.to_string());
    index.insert(value.to_string(), i);
    i
}

fn columns_of(payloads: &[VectorPayload]) -> Columns {
    let mut c = Columns::default();
    let (mut ki, mut di, mut mi) = (HashMap::new(), HashMap::new(), HashMap::new());
    for p in payloads {
        c.kind.push(intern(&mut c.kinds, &mut ki, &p.kind));
        c.department
            .push(intern(&mut c.departments, &mut di, &p.department));
        c.matter_start.push(c.matter.len() as u32);
        for m in &p.matter {
            let id = intern(&mut c.matters, &mut mi, m);
            c.matter.push(id);
        }
        c.valid_from.push(p.valid_from);
        c.valid_until.push(p.valid_until);
    }
    c.matter_start.push(c.matter.len() as u32);
    c
}

/// Dot product with eight independent accumulators, so that the compiler can keep
/// them in vector registers (a single running sum would serialise every addition).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s = (acc[0] + acc[4]) + (acc[1] + acc[5]) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Unit length, unless it already is (to the last bits): vectors that come from an
/// embedder are normalised there, and rescaling them again would change scores in
/// the last bits between this store and a freshly embedded query.
fn unit(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n == 0.0 || (n - 1.0).abs() <= 1e-6 {
        v.to_vec()
    } else {
        v.iter().map(|x| x / n).collect()
    }
}

/// A filter resolved against one store's interned columns.
struct Compiled {
    kinds: Option<Vec<u32>>,
    departments: Option<Vec<u32>>,
    matters: Option<Vec<u32>>,
    day: Option<i64>,
}

impl Compiled {
    /// `None` when the filter cannot match anything in this store.
    fn new(filter: &Filter, c: &Columns) -> Option<Self> {
        let ids = |names: &[String], wanted: &mut dyn Iterator<Item = &str>| -> Vec<u32> {
            wanted
                .filter_map(|w| names.iter().position(|n| n == w).map(|i| i as u32))
                .collect()
        };
        let kinds = (!filter.kinds.is_empty())
            .then(|| ids(&c.kinds, &mut filter.kinds.iter().map(|k| k.as_str())));
        let departments = (!filter.departments.is_empty()).then(|| {
            ids(
                &c.departments,
                &mut filter.departments.iter().map(String::as_str),
            )
        });
        let matters = (!filter.matter_codes.is_empty()).then(|| {
            ids(
                &c.matters,
                &mut filter.matter_codes.iter().map(String::as_str),
            )
        });
        for list in [&kinds, &departments, &matters].into_iter().flatten() {
            if list.is_empty() {
                return None;
            }
        }
        Some(Compiled {
            kinds,
            departments,
            matters,
            day: filter.valid_on.map(day_number),
        })
    }

    fn passes(&self, c: &Columns, i: usize) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&c.kind[i]))
            && self
                .departments
                .as_ref()
                .is_none_or(|d| d.contains(&c.department[i]))
            && self.matters.as_ref().is_none_or(|m| {
                let (s, e) = (c.matter_start[i] as usize, c.matter_start[i + 1] as usize);
                c.matter[s..e].iter().any(|x| m.contains(x))
            })
            && self
                .day
                .is_none_or(|d| c.valid_from[i] <= d && d < c.valid_until[i])
    }
}

impl ExactStore {
    /// An empty store for `dim`-dimensional vectors that [`VectorStore::flush`]
    /// writes into `dir`.
    ///
    /// # Errors
    /// When `dir` cannot be created.
    pub fn create(dir: &Path, dim: usize) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(ExactStore {
            dim,
            dir: Some(dir.to_path_buf()),
            table: RwLock::new(Table::default()),
        })
    }

    /// Loads a store written by [`ExactStore::create`] + [`VectorStore::flush`],
    /// read-only.
    ///
    /// # Errors
    /// Missing files, or files that disagree with each other or with `dim`.
    pub fn open(dir: &Path, dim: usize) -> Result<Self> {
        let hp = dir.join(HEADER_FILE);
        let header = fs::read(&hp).map_err(|e| Error::io(&hp, e))?;
        let vp = dir.join(VECTORS_FILE);
        let raw = fs::read(&vp).map_err(|e| Error::io(&vp, e))?;
        Self::from_bytes(&header, &raw, dim)
    }

    /// Builds a read-only store from the bytes of its two files (which the caller
    /// may already have read to check their checksums).
    ///
    /// # Errors
    /// Bytes that are not a store of `dim`-dimensional vectors.
    pub fn from_bytes(header: &[u8], vectors: &[u8], dim: usize) -> Result<Self> {
        let corrupt = |why: String| Error::Vector(format!("exact vector store: {why}"));
        let h: Header =
            serde_json::from_slice(header).map_err(|e| corrupt(format!("{HEADER_FILE}: {e}")))?;
        if h.format != FORMAT {
            return Err(corrupt(format!("format {} (expected {FORMAT})", h.format)));
        }
        if h.dim != dim {
            return Err(Error::DimensionMismatch {
                expected: dim,
                got: h.dim,
            });
        }
        let n = h.ids.len();
        let want = n
            .checked_mul(dim)
            .and_then(|x| x.checked_mul(4))
            .ok_or_else(|| corrupt(format!("{n} points × {dim} dimensions overflows")))?;
        if vectors.len() != want {
            return Err(corrupt(format!(
                "{VECTORS_FILE} holds {} bytes, {n} points × {dim} dimensions need {want}",
                vectors.len()
            )));
        }
        let c = &h.columns;
        let columns_ok = [
            c.kind.len(),
            c.department.len(),
            c.valid_from.len(),
            c.valid_until.len(),
        ]
        .iter()
        .all(|&l| l == n)
            && c.matter_start.len() == n + 1
            && c.matter_start.windows(2).all(|w| w[0] <= w[1])
            && c.matter_start
                .last()
                .is_some_and(|&e| e as usize == c.matter.len())
            && c.kind.iter().all(|&k| (k as usize) < c.kinds.len())
            && c.department
                .iter()
                .all(|&d| (d as usize) < c.departments.len())
            && c.matter.iter().all(|&m| (m as usize) < c.matters.len());
        if !columns_ok {
            return Err(corrupt(format!(
                "{HEADER_FILE}: payload columns do not match {n} points"
            )));
        }
        let vectors: Vec<f32> = vectors
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let position = h.ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        Ok(ExactStore {
            dim,
            dir: None,
            table: RwLock::new(Table {
                ids: h.ids,
                vectors,
                payloads: Vec::new(),
                columns: h.columns,
                position,
            }),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        // A panic while holding the lock cannot leave the table half-updated in a
        // way readers would misread (upsert swaps whole columns), so ignore poison.
        self.table.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The stored vector of point `id`, if there is one.
    pub fn vector(&self, id: u64) -> Option<Vec<f32>> {
        let t = self.read();
        let &i = t.position.get(&id)?;
        Some(t.vectors[i * self.dim..(i + 1) * self.dim].to_vec())
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }
}

impl VectorStore for ExactStore {
    fn upsert(&self, points: &[VectorPoint]) -> Result<()> {
        if let Some(p) = points.iter().find(|p| p.vector.len() != self.dim) {
            return Err(Error::DimensionMismatch {
                expected: self.dim,
                got: p.vector.len(),
            });
        }
        if self.dir.is_none() {
            return Err(Error::Vector(
                "exact vector store: a store opened from disk is read-only".into(),
            ));
        }
        let mut t = self.table.write().unwrap_or_else(|e| e.into_inner());
        for p in points {
            let v = unit(&p.vector);
            match t.position.get(&p.id).copied() {
                Some(i) => {
                    t.vectors[i * self.dim..(i + 1) * self.dim].copy_from_slice(&v);
                    t.payloads[i] = p.payload.clone();
                }
                None => {
                    let i = t.ids.len();
                    t.ids.push(p.id);
                    t.vectors.extend_from_slice(&v);
                    t.payloads.push(p.payload.clone());
                    t.position.insert(p.id, i);
                }
            }
        }
        t.columns = columns_of(&t.payloads);
        Ok(())
    }

    fn search(&self, vector: &[f32], filter: &Filter, limit: usize) -> Result<Vec<(u64, f32)>> {
        if vector.len() != self.dim {
            return Err(Error::DimensionMismatch {
                expected: self.dim,
                got: vector.len(),
            });
        }
        if limit == 0 {
            return Ok(Vec::new());
        }
        let q = unit(vector);
        let t = self.read();
        let c = &t.columns;
        let Some(compiled) = Compiled::new(filter, c) else {
            return Ok(Vec::new());
        };
        let all = filter.is_empty();
        let mut scored: Vec<(f32, usize)> = Vec::new();
        for (i, row) in t.vectors.chunks_exact(self.dim).enumerate() {
            if all || compiled.passes(c, i) {
                scored.push((dot(&q, row), i));
            }
        }
        // Best first; equal scores by position, so results never depend on the
        // order in which the selection happened to visit them.
        let order = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if scored.len() > limit {
            scored.select_nth_unstable_by(limit - 1, order);
            scored.truncate(limit);
        }
        scored.sort_unstable_by(order);
        Ok(scored.into_iter().map(|(s, i)| (t.ids[i], s)).collect())
    }

    fn count(&self) -> Result<usize> {
        Ok(self.read().ids.len())
    }

    fn flush(&self) -> Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let t = self.read();
        let header = Header {
            format: FORMAT,
            dim: self.dim,
            ids: t.ids.clone(),
            columns: t.columns.clone(),
        };
        let hp = dir.join(HEADER_FILE);
        let json = serde_json::to_vec(&header).map_err(|e| Error::json(&hp, e))?;
        write_synced(&hp, &json)?;
        let mut bytes = Vec::with_capacity(t.vectors.len() * 4);
        for x in &t.vectors {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
        write_synced(&dir.join(VECTORS_FILE), &bytes)
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fs::File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(kind: &str) -> VectorPayload {
        VectorPayload {
            kind: kind.into(),
            matter: vec![],
            department: String::new(),
            valid_from: -(1 << 52),
            valid_until: 1 << 52,
            doc_id: String::new(),
            chunk_id: String::new(),
        }
    }

    #[test]
    fn dot_matches_the_naive_sum_for_every_remainder() {
        for n in [0usize, 1, 7, 8, 9, 17, 256] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - naive).abs() < 1e-4, "n={n}");
        }
    }

    #[test]
    fn ties_are_broken_by_position_and_limit_keeps_the_best() {
        let dir = tempfile::tempdir().unwrap();
        let s = ExactStore::create(dir.path(), 2).unwrap();
        let pts: Vec<VectorPoint> = [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.8]]
            .iter()
            .enumerate()
            .map(|(i, v)| VectorPoint {
                id: 10 + i as u64,
                vector: v.to_vec(),
                payload: payload("policy"),
            })
            .collect();
        s.upsert(&pts).unwrap();
        let hits = s.search(&[1.0, 0.0], &Filter::default(), 3).unwrap();
        let ids: Vec<u64> = hits.iter().map(|h| h.0).collect();
        assert_eq!(ids, vec![10, 12, 13]);
        assert!(
            s.search(&[1.0, 0.0], &Filter::default(), 0)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn header_and_table_that_disagree_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = ExactStore::create(dir.path(), 2).unwrap();
        s.upsert(&[VectorPoint {
            id: 0,
            vector: vec![1.0, 0.0],
            payload: payload("guide"),
        }])
        .unwrap();
        s.flush().unwrap();
        let header = fs::read(dir.path().join(HEADER_FILE)).unwrap();
        let table = fs::read(dir.path().join(VECTORS_FILE)).unwrap();
        assert!(ExactStore::from_bytes(&header, &table, 2).is_ok());
        assert!(matches!(
            ExactStore::from_bytes(&header, &table[..4], 2),
            Err(Error::Vector(_))
        ));
        assert!(matches!(
            ExactStore::from_bytes(&header, &table, 3),
            Err(Error::DimensionMismatch {
                expected: 3,
                got: 2
            })
        ));
        let text = String::from_utf8(header).unwrap();
        let bad = text.replace("\"kind\":[0]", "\"kind\":[5]");
        assert_ne!(bad, text);
        assert!(matches!(
            ExactStore::from_bytes(bad.as_bytes(), &table, 2),
            Err(Error::Vector(_))
        ));
        // A loaded store is read-only.
        let loaded = ExactStore::from_bytes(text.as_bytes(), &table, 2).unwrap();
        assert!(matches!(
            loaded.upsert(&[VectorPoint {
                id: 1,
                vector: vec![0.0, 1.0],
                payload: payload("guide"),
            }]),
            Err(Error::Vector(_))
        ));
    }
}
