//! Starting the server: open the stores, create the first org if needed, listen with or
//! without TLS, stop on Ctrl-C or SIGTERM.

use crate::auth::token::TokenService;
use crate::cache::ReadCache;
use crate::catalog::signing::UrlSigner;
use crate::gc::GcConfig;
use crate::identity::bootstrap::{Bootstrapped, InitialOrg, bootstrap};
use crate::linger::LingeringClose;
use crate::state::{AppState, Settings};
use crate::{ServerError, router};
use hangar_store::blob::Digest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tower_http::add_extension::AddExtension;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub database: String,
    pub blobs: String,
    /// Certificate chain and private key, PEM.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub token_ttl_seconds: i64,
    pub initial: InitialOrg,
    pub settings: Settings,
    pub gc: GcConfig,
}

/// A server that has opened its stores and bound its socket, ready to run.
pub struct Server {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    state: AppState,
    gc: GcConfig,
    pub bootstrapped: Option<Bootstrapped>,
}

impl Server {
    pub async fn start(config: ServeConfig) -> Result<Self, ServerError> {
        // Settings are checked before anything is written.
        let tls = config
            .tls
            .as_ref()
            .map(|(cert, key)| tls_acceptor(cert, key))
            .transpose()?;
        config.initial.validate()?;
        let meta = hangar_store::meta::MetaStore::open(&config.database).await?;
        let blobs = hangar_store::blob::open(&config.blobs).await?;
        // Opening does not connect; one lookup makes wrong S3 settings fail the start.
        blobs.stat(&Digest::sha256(b"")).await?;
        let tokens = TokenService::load(&meta, config.token_ttl_seconds).await?;
        let urls = UrlSigner::load(&meta).await?;
        let bootstrapped = bootstrap(&meta, &config.initial).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| ServerError::Config(format!("cannot listen on {}: {e}", config.listen)))?;
        let state = AppState {
            meta,
            blobs,
            tokens,
            urls,
            cache: Arc::new(ReadCache::new(config.settings.read_cache)),
            settings: Arc::new(config.settings),
        };
        Ok(Server {
            listener,
            tls,
            state,
            gc: config.gc,
            bootstrapped,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves until Ctrl-C or SIGTERM, then lets open requests finish.
    pub async fn run(self) -> Result<(), ServerError> {
        let app = router(self.state.clone());
        let gc = crate::gc::spawn(self.state.clone(), &self.gc);
        let indexing = tokio::spawn(index_catalog(self.state.clone()));
        let builder = connection_builder();
        let graceful = GracefulShutdown::new();
        let shutdown = shutdown_signal();
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => { accept_failed(e).await; continue; }
                },
                _ = &mut shutdown => break,
            };
            let stream = LingeringClose::new(stream);
            let service = TowerToHyperService::new(AddExtension::new(app.clone(), Peer(peer)));
            let (builder, tls, watcher) = (builder.clone(), self.tls.clone(), graceful.watcher());
            tokio::spawn(async move {
                let served = match tls {
                    None => serve_connection(&builder, stream, service, watcher).await,
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(tls) => serve_connection(&builder, tls, service, watcher).await,
                        Err(e) => return tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    },
                };
                if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
        drop(self.listener);
        graceful.shutdown().await;
        drop(gc);
        indexing.abort();
        self.state.meta.close().await;
        Ok(())
    }
}

/// Brings the whole search index up to date once at start (a catalog migrated or restored
/// from a backup may have every entry stale) and loads this process's copy of it, so the first
/// search does not wait for that; searches keep it current after that.
async fn index_catalog(state: AppState) {
    match state.meta.prepare_search().await {
        Ok(n) => tracing::info!(entries = n, "search index loaded"),
        Err(e) => tracing::warn!(error = %e, "search index not brought up to date; searches will"),
    }
}

/// The largest read buffer an HTTP/1 connection may grow. hyper's default (about 400 KiB) is
/// reached by every connection that streams a body, and kept while it stays open: with 200
/// clients that alone was 70 MB. Reads of 64 KiB still move a body at full speed.
const HTTP1_READ_BUFFER: usize = 64 << 10;

fn connection_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().max_buf_size(HTTP1_READ_BUFFER);
    builder
}

/// The address a connection came from, in every request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

type AppService = TowerToHyperService<AddExtension<axum::Router, Peer>>;

/// Serves one connection until the client closes it or a graceful shutdown ends it.
async fn serve_connection<I>(
    builder: &auto::Builder<TokioExecutor>,
    io: I,
    service: AppService,
    watcher: Watcher,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    watcher.watch(conn.into_owned()).await
}

/// A failed accept: a client that gave up is nothing; anything else (such as running out of
/// file descriptors) is logged and waited out for a second, as hyper did.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
}

fn tls_acceptor(cert: &PathBuf, key: &PathBuf) -> Result<TlsAcceptor, ServerError> {
    let bad = |what: &str, path: &PathBuf, e: &dyn std::fmt::Display| {
        ServerError::Config(format!("cannot read TLS {what} {}: {e}", path.display()))
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad("certificate", cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("certificate", cert, &e))?;
    if chain.is_empty() {
        return Err(ServerError::Config(format!(
            "no certificate found in {}",
            cert.display()
        )));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad("key", key, &e))?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| ServerError::Config(format!("invalid TLS certificate or key: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
