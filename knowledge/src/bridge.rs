//! The one blocking boundary of the crate: synchronous callers (the CLI, a snapshot
//! build) of the network backends.
//!
//! The remote embedder and the Qdrant client are async. Their synchronous methods
//! hand the future to a [`SyncBridge`]: a current-thread runtime that lives on a
//! thread of its own, started on first use. The calling thread waits on a plain
//! channel, so calling from inside a tokio runtime never panics the way
//! `Runtime::block_on` does; it only blocks that thread, which is why async code
//! uses the `*_async` methods instead (or `spawn_blocking`). Dropping a bridge only
//! signals its thread: the runtime is dropped there, never on the caller's thread,
//! so dropping a snapshot on an async worker is safe.

use std::future::Future;
use std::sync::mpsc;
use std::time::Instant;

use crate::error::{Error, Result};

/// A private runtime thread for synchronous callers. See the module docs.
pub(crate) struct SyncBridge {
    handle: tokio::runtime::Handle,
    /// Dropping this ends the runtime thread.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for SyncBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyncBridge")
    }
}

impl SyncBridge {
    /// Starts the runtime thread.
    pub(crate) fn start(name: &str) -> Result<Self> {
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (handle_tx, handle_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = handle_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = handle_tx.send(Ok(rt.handle().clone()));
                // Drives every spawned future until the bridge is dropped (the
                // sender goes away and the receiver resolves).
                rt.block_on(async {
                    let _ = stop_rx.await;
                });
            })
            .map_err(|e| Error::Runtime(format!("cannot start {name}: {e}")))?;
        let handle = handle_rx
            .recv()
            .map_err(|_| Error::Runtime(format!("{name} exited at start")))?
            .map_err(|e| Error::Runtime(format!("{name}: {e}")))?;
        Ok(SyncBridge {
            handle,
            _stop: stop_tx,
        })
    }

    /// Runs `fut` on the bridge and waits for it, at most until `deadline`.
    pub(crate) fn run<T, F>(&self, deadline: Instant, fut: F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let at = tokio::time::Instant::from_std(deadline);
        self.handle.spawn(async move {
            let out = match tokio::time::timeout_at(at, fut).await {
                Ok(r) => r,
                Err(_) => Err(Error::DeadlineExceeded),
            };
            let _ = tx.send(out);
        });
        rx.recv()
            .map_err(|_| Error::Runtime("the bridge runtime stopped".into()))?
    }
}
