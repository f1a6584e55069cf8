//! The snapshot a server holds: one open [`Snapshot`] shared by every request,
//! swapped for the newly published one without dropping a request.
//!
//! ```text
//!   request ──► LiveSnapshot::snapshot() ──► Snapshot (an Arc) ──► search_async …
//!                       ▲ read lock, Arc clone: no I/O
//!   watcher ─ every N ms: read CURRENT (one small file) ─ changed? ─► open the new
//!             snapshot in spawn_blocking, verify it, then swap under a write lock
//! ```
//!
//! A search that started on the old snapshot keeps its own handle and finishes on
//! it; the old snapshot is freed when the last such search ends. Every hit carries
//! the id of the snapshot that served it. A snapshot that fails to open (corrupt,
//! another format, a backend this build lacks) is logged and skipped: the old one
//! keeps serving, and the watcher tries again only when `CURRENT` names another id.

use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::retrieve::{SearchRequest, SearchResult};
use crate::snapshot::{Snapshot, SnapshotStore};

/// API keys for remote backends (never stored in a snapshot).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// Key of the OpenAI-compatible embedding endpoint.
    pub embedding_api_key: Option<String>,
    /// Key of the Qdrant server.
    pub qdrant_api_key: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field(
                "embedding_api_key",
                &self.embedding_api_key.as_ref().map(|_| "…"),
            )
            .field("qdrant_api_key", &self.qdrant_api_key.as_ref().map(|_| "…"))
            .finish()
    }
}

/// What a refresh did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// `CURRENT` names the snapshot already served.
    Unchanged,
    /// The newly published snapshot is now served.
    Swapped {
        /// The id served before.
        from: String,
        /// The id served now.
        to: String,
    },
}

struct Inner {
    store: SnapshotStore,
    secrets: Secrets,
    current: RwLock<Snapshot>,
    /// One refresh at a time: two would open the same snapshot twice.
    refreshing: Mutex<()>,
    /// The last id that failed to open, with the error.
    failed: Mutex<Option<(String, String)>>,
}

/// The published snapshot of an index directory, kept open and swapped when a new
/// one is published. Cheap to clone (an `Arc`). See the module docs.
#[derive(Clone)]
pub struct LiveSnapshot {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LiveSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSnapshot")
            .field("root", &self.inner.store.root())
            .field("serving", &self.snapshot().id().to_string())
            .finish()
    }
}

impl LiveSnapshot {
    /// Opens the published snapshot of `store`. Blocking (it reads and verifies
    /// the whole snapshot); from async code use [`LiveSnapshot::open_async`].
    ///
    /// # Errors
    /// [`Error::NoSnapshot`] when nothing is published; whatever opening fails with.
    pub fn open(store: SnapshotStore, secrets: Secrets) -> Result<Self> {
        let id = store
            .current_id()?
            .ok_or_else(|| Error::NoSnapshot(store.root().to_path_buf()))?;
        let snap = open_with(&store, &id, &secrets)?;
        Ok(LiveSnapshot {
            inner: Arc::new(Inner {
                store,
                secrets,
                current: RwLock::new(snap),
                refreshing: Mutex::new(()),
                failed: Mutex::new(None),
            }),
        })
    }

    /// [`LiveSnapshot::open`] on tokio's blocking pool.
    ///
    /// # Errors
    /// As [`LiveSnapshot::open`].
    pub async fn open_async(store: SnapshotStore, secrets: Secrets) -> Result<Self> {
        tokio::task::spawn_blocking(move || Self::open(store, secrets))
            .await
            .map_err(|e| Error::Runtime(format!("opening the snapshot failed: {e}")))?
    }

    /// The snapshot served now. No I/O: a read lock and an `Arc` clone. Keep the
    /// returned handle for the whole request, so that all of it sees one snapshot.
    pub fn snapshot(&self) -> Snapshot {
        self.inner
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The store this holder watches.
    pub fn store(&self) -> &SnapshotStore {
        &self.inner.store
    }

    /// Searches the snapshot served now; see [`Snapshot::search_async`].
    ///
    /// # Errors
    /// As [`Snapshot::search_async`].
    pub async fn search(&self, req: &SearchRequest, deadline: Instant) -> Result<SearchResult> {
        self.snapshot().search_async(req, deadline).await
    }

    /// The last snapshot id that failed to open and why, if any.
    pub fn last_failure(&self) -> Option<(String, String)> {
        self.inner
            .failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads `CURRENT` and, when it names another snapshot, opens that one and
    /// swaps it in. Blocking (the open reads the whole snapshot); searches keep
    /// being served from the old snapshot meanwhile.
    ///
    /// # Errors
    /// Reading `CURRENT` or opening the new snapshot failed; the old one is still
    /// served.
    pub fn refresh(&self) -> Result<Refresh> {
        let _one = self
            .inner
            .refreshing
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let published = self
            .inner
            .store
            .current_id()?
            .ok_or_else(|| Error::NoSnapshot(self.inner.store.root().to_path_buf()))?;
        let serving = self.snapshot().id().to_string();
        if published == serving {
            return Ok(Refresh::Unchanged);
        }
        let started = Instant::now();
        let next = match open_with(&self.inner.store, &published, &self.inner.secrets) {
            Ok(s) => s,
            Err(e) => {
                *self.inner.failed.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((published.clone(), e.to_string()));
                return Err(e);
            }
        };
        let old = {
            let mut cur = self
                .inner
                .current
                .write()
                .unwrap_or_else(|e| e.into_inner());
            std::mem::replace(&mut *cur, next)
        };
        // The old handle is released here, outside the lock; in-flight searches
        // still hold theirs.
        drop(old);
        *self.inner.failed.lock().unwrap_or_else(|e| e.into_inner()) = None;
        tracing::info!(
            from = %serving,
            to = %published,
            seconds = started.elapsed().as_secs_f64(),
            "serving a newly published snapshot"
        );
        Ok(Refresh::Swapped {
            from: serving,
            to: published,
        })
    }

    /// [`LiveSnapshot::refresh`] on tokio's blocking pool.
    ///
    /// # Errors
    /// As [`LiveSnapshot::refresh`].
    pub async fn refresh_async(&self) -> Result<Refresh> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.refresh())
            .await
            .map_err(|e| Error::Runtime(format!("refresh failed: {e}")))?
    }

    /// Spawns a task on the current tokio runtime that checks `CURRENT` every
    /// `every` and swaps in a newly published snapshot (opened on the blocking
    /// pool). It holds only a weak reference: it ends by itself once every
    /// `LiveSnapshot` handle is dropped, or when aborted.
    ///
    /// # Panics
    /// When called outside a tokio runtime (as `tokio::spawn` does).
    pub fn watch(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut skipped: Option<String> = None;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let live = LiveSnapshot { inner };
                // A cheap look first, so that a snapshot that failed to open is not
                // re-read on every tick.
                let store = live.inner.store.clone();
                let published = tokio::task::spawn_blocking(move || store.current_id())
                    .await
                    .ok()
                    .and_then(|r| r.ok())
                    .flatten();
                let Some(published) = published else { continue };
                if Some(&published) == skipped.as_ref() || published == live.snapshot().id() {
                    continue;
                }
                match live.refresh_async().await {
                    Ok(_) => skipped = None,
                    Err(e) => {
                        tracing::warn!(snapshot = %published, error = %e, "the published snapshot cannot be opened; still serving the previous one");
                        skipped = Some(published);
                    }
                }
            }
        })
    }
}

fn open_with(store: &SnapshotStore, id: &str, s: &Secrets) -> Result<Snapshot> {
    store.open_with(
        id,
        s.embedding_api_key.as_deref(),
        s.qdrant_api_key.as_deref(),
    )
}
