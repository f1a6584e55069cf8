//! HTTPS by configuration (`[server] tls_cert`, `tls_key`, PEM): rustls with its ring provider.
//! SM2 certificates (GM/T 0024 TLCP) are out of scope: rustls speaks TLS 1.2/1.3 with
//! international suites only, so a 商用密码 transport needs a TLCP gateway in front.
//!
//! Handshakes run in their own tasks with a deadline, so a slow or silent client cannot hold up
//! the accept loop; finished connections reach axum through a channel.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Longest a TLS handshake may take.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// An acceptor for the PEM chain at `cert` and key at `key`.
///
/// # Errors
/// Unreadable or invalid PEM, a key that does not match, in Chinese.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("读取证书 {} 失败", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("证书 {} 不是有效的 PEM", cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!("证书文件 {} 中没有证书", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("读取私钥 {} 失败（应为 PEM）", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS 协议版本配置失败")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("证书与私钥不匹配或不受支持")?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(cfg)))
}

/// A listener that hands axum finished TLS connections.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Starts accepting on `tcp` with `acceptor`.
///
/// # Errors
/// The socket's own address cannot be read.
pub fn listen(tcp: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<TlsListener> {
    let addr = tcp.local_addr()?;
    let (tx, rx) = mpsc::channel(256);
    let accept = tokio::spawn(async move {
        loop {
            let (stream, peer) = match tcp.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!("接受连接失败：{e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send((tls, peer)).await;
                    }
                    Ok(Err(e)) => tracing::debug!("TLS 握手失败：{e}"),
                    Err(_) => tracing::debug!("TLS 握手超时"),
                }
            });
        }
    });
    Ok(TlsListener { rx, addr, accept })
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accept task only ends when the listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::serve::ListenerExt;

    /// A self-signed certificate for 127.0.0.1 made by the openssl command line.
    fn self_signed(dir: &Path) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let ok = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args(["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1"])
            // webpki refuses a CA certificate as the server's own.
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then_some((cert, key))
    }

    #[tokio::test]
    async fn https_is_served_with_the_configured_certificate_and_plain_http_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let Some((cert, key)) = self_signed(dir.path()) else {
            assert!(
                std::env::var("ZHIBAN_REQUIRE_EXTERNAL").is_err(),
                "openssl 命令不可用"
            );
            eprintln!("跳过：openssl 命令不可用");
            return;
        };
        let tls = acceptor(&cert, &key).unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listener = listen(tcp, tls).unwrap();
        let addr = axum::serve::Listener::local_addr(&listener).unwrap();
        let app = axum::Router::new().route(
            "/livez",
            axum::routing::get(
                |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>| async move {
                    format!("ok {}", peer.ip())
                },
            ),
        );
        let server = tokio::spawn(async move {
            axum::serve(
                listener.tap_io(|_| {}),
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        });
        let root = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
        let client = reqwest::Client::builder()
            .add_root_certificate(root)
            .build()
            .unwrap();
        let body = client
            .get(format!("https://{addr}/livez"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "ok 127.0.0.1");
        // Plain HTTP on the TLS port gets no answer.
        let plain = reqwest::Client::new()
            .get(format!("http://{addr}/livez"))
            .timeout(Duration::from_secs(3))
            .send()
            .await;
        assert!(plain.is_err() || !plain.unwrap().status().is_success());
        // A key that is not PEM is refused in Chinese.
        std::fs::write(dir.path().join("bad.pem"), "not a key").unwrap();
        let e = acceptor(&cert, &dir.path().join("bad.pem")).err().unwrap();
        assert!(format!("{e:#}").contains("私钥"), "{e:#}");
        server.abort();
    }
}
