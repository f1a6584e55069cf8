//! Durable sessions: a trait, SQLite by default, PostgreSQL in production.
//!
//! A session is one row: its JSON body (tokens only, never plaintext PII), its state, a version
//! for optimistic concurrency and an expiry. The engine writes the row before the reply is sent,
//! so a kill -9 at any point leaves either the previous turn or this one, never half of it; and
//! because [`SessionStore::save`] checks the version, two replicas answering the same session at
//! once cannot both win — the second gets [`StoreError::Conflict`] and its turn is not applied.

use async_trait::async_trait;
use chrono::Utc;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::session::Session;

/// Why a store operation failed. Messages are Chinese and carry no session content.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such session (or it expired).
    #[error("会话不存在或已过期")]
    NotFound,
    /// Someone else saved this session since it was loaded.
    #[error("会话正被另一个请求更新，请稍后重试")]
    Conflict,
    /// The database failed.
    #[error("会话库错误：{0}")]
    Database(String),
    /// A stored body no longer parses.
    #[error("会话数据损坏：{0}")]
    Corrupt(String),
    /// The URL is not one this build speaks.
    #[error("不支持的会话库地址：{0}（应为 sqlite://… 或 postgres://…）")]
    UnsupportedUrl(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// Where sessions live.
#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug {
    /// Insert a new session (version 0 → 1).
    async fn create(&self, s: &mut Session) -> Result<(), StoreError>;
    /// Load a live session.
    async fn load(&self, id: &str) -> Result<Session, StoreError>;
    /// Save `s` if nobody saved it since it was loaded; bumps `s.version`.
    async fn save(&self, s: &mut Session) -> Result<(), StoreError>;
    /// Delete sessions whose TTL ran out; returns how many.
    async fn purge_expired(&self) -> Result<u64, StoreError>;
    /// Whether the store answers.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Open the store named by `url` (`sqlite://path`, `sqlite::memory:`, `postgres://…`), with
/// sessions expiring `ttl` after their last change.
///
/// # Errors
/// [`StoreError`] when the database cannot be opened or the schema created.
pub async fn open(url: &str, ttl: Duration) -> Result<Arc<dyn SessionStore>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url, ttl).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url, ttl).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

fn body_of(s: &Session) -> Result<String, StoreError> {
    serde_json::to_string(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse(body: &str) -> Result<Session, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn state_of(s: &Session) -> String {
    serde_json::to_value(s.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// SQLite (the default; the file is created when absent).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    ttl: Duration,
}

const SQLITE_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL)";

impl SqliteStore {
    /// Open (and create) the database at `url`.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn open(url: &str, ttl: Duration) -> Result<Self, StoreError> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .filter(|p| !p.is_empty() && !p.starts_with(':'))
        {
            let path = path.split('?').next().unwrap_or(path);
            if let Some(dir) = std::path::Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                tokio::fs::create_dir_all(dir).await.map_err(|e| {
                    StoreError::Database(format!("无法创建目录 {}：{e}", dir.display()))
                })?;
            }
        }
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        // An in-memory database lives as long as its one connection.
        let memory = url.contains(":memory:");
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { 4 })
            .min_connections(if memory { 1 } else { 0 })
            .idle_timeout(if memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if memory {
                None
            } else {
                Some(Duration::from_secs(3600))
            })
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await?;
        sqlx::query(SQLITE_SCHEMA).execute(&pool).await?;
        Ok(SqliteStore { pool, ttl })
    }
}

fn expiry(ttl: Duration) -> i64 {
    Utc::now()
        .timestamp()
        .saturating_add(ttl.as_secs().min(i64::MAX as u64) as i64)
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create(&self, s: &mut Session) -> Result<(), StoreError> {
        s.version = 1;
        let body = body_of(s)?;
        sqlx::query("INSERT INTO sessions (id, agent, state, version, body, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(&s.session_id)
            .bind(&s.agent)
            .bind(state_of(s))
            .bind(s.version)
            .bind(body)
            .bind(Utc::now().timestamp())
            .bind(expiry(self.ttl))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn load(&self, id: &str) -> Result<Session, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT body FROM sessions WHERE id = ? AND expires_at > ?")
                .bind(id)
                .bind(Utc::now().timestamp())
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some((body,)) => parse(&body),
            None => Err(StoreError::NotFound),
        }
    }

    async fn save(&self, s: &mut Session) -> Result<(), StoreError> {
        let old = s.version;
        s.version = old + 1;
        let body = match body_of(s) {
            Ok(b) => b,
            Err(e) => {
                s.version = old;
                return Err(e);
            }
        };
        let done = sqlx::query("UPDATE sessions SET state = ?, version = ?, body = ?, updated_at = ?, expires_at = ? WHERE id = ? AND version = ?")
            .bind(state_of(s))
            .bind(s.version)
            .bind(body)
            .bind(Utc::now().timestamp())
            .bind(expiry(self.ttl))
            .bind(&s.session_id)
            .bind(old)
            .execute(&self.pool)
            .await;
        match done {
            Ok(r) if r.rows_affected() == 1 => Ok(()),
            Ok(_) => {
                s.version = old;
                Err(StoreError::Conflict)
            }
            Err(e) => {
                s.version = old;
                Err(e.into())
            }
        }
    }

    async fn purge_expired(&self) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(Utc::now().timestamp())
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// PostgreSQL (production; the protocol the domestic databases speak).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    ttl: Duration,
}

const PG_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS zhiban_sessions (
    id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL)";

impl PgStore {
    /// Connect and create the table when absent.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn open(url: &str, ttl: Duration) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        sqlx::query(PG_SCHEMA).execute(&pool).await?;
        Ok(PgStore { pool, ttl })
    }
}

#[async_trait]
impl SessionStore for PgStore {
    async fn create(&self, s: &mut Session) -> Result<(), StoreError> {
        s.version = 1;
        let body = body_of(s)?;
        sqlx::query("INSERT INTO zhiban_sessions (id, agent, state, version, body, updated_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&s.session_id)
            .bind(&s.agent)
            .bind(state_of(s))
            .bind(s.version)
            .bind(body)
            .bind(Utc::now().timestamp())
            .bind(expiry(self.ttl))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn load(&self, id: &str) -> Result<Session, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT body FROM zhiban_sessions WHERE id = $1 AND expires_at > $2")
                .bind(id)
                .bind(Utc::now().timestamp())
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some((body,)) => parse(&body),
            None => Err(StoreError::NotFound),
        }
    }

    async fn save(&self, s: &mut Session) -> Result<(), StoreError> {
        let old = s.version;
        s.version = old + 1;
        let body = match body_of(s) {
            Ok(b) => b,
            Err(e) => {
                s.version = old;
                return Err(e);
            }
        };
        let done = sqlx::query("UPDATE zhiban_sessions SET state = $1, version = $2, body = $3, updated_at = $4, expires_at = $5 WHERE id = $6 AND version = $7")
            .bind(state_of(s))
            .bind(s.version)
            .bind(body)
            .bind(Utc::now().timestamp())
            .bind(expiry(self.ttl))
            .bind(&s.session_id)
            .bind(old)
            .execute(&self.pool)
            .await;
        match done {
            Ok(r) if r.rows_affected() == 1 => Ok(()),
            Ok(_) => {
                s.version = old;
                Err(StoreError::Conflict)
            }
            Err(e) => {
                s.version = old;
                Err(e.into())
            }
        }
    }

    async fn purge_expired(&self) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM zhiban_sessions WHERE expires_at <= $1")
            .bind(Utc::now().timestamp())
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
