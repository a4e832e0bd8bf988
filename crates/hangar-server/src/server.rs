//! Starting the server: open the stores, create the first org if needed, listen with or
//! without TLS, stop on Ctrl-C or SIGTERM.

use crate::auth::token::TokenService;
use crate::cache::ReadCache;
use crate::catalog::signing::UrlSigner;
use crate::gc::GcConfig;
use crate::identity::bootstrap::{Bootstrapped, InitialOrg, bootstrap};
use crate::state::{AppState, Settings};
use crate::{ServerError, router};
use hangar_store::blob::Digest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

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

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run(self) -> Result<(), ServerError> {
        let app = router(self.state.clone());
        let gc = crate::gc::spawn(self.state.clone(), &self.gc);
        match self.tls {
            None => {
                axum::serve(self.listener, app)
                    .with_graceful_shutdown(shutdown_signal())
                    .await?
            }
            Some(acceptor) => {
                let shutdown = shutdown_signal();
                tokio::pin!(shutdown);
                loop {
                    let (stream, peer) = tokio::select! {
                        accepted = self.listener.accept() => match accepted {
                            Ok(pair) => pair,
                            Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
                        },
                        _ = &mut shutdown => break,
                    };
                    let acceptor = acceptor.clone();
                    let service = TowerToHyperService::new(app.clone());
                    tokio::spawn(async move {
                        let tls = match acceptor.accept(stream).await {
                            Ok(tls) => tls,
                            Err(e) => return tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        };
                        if let Err(e) = auto::Builder::new(TokioExecutor::new())
                            .serve_connection_with_upgrades(TokioIo::new(tls), service)
                            .await
                        {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
            }
        }
        drop(gc);
        self.state.meta.close().await;
        Ok(())
    }
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
