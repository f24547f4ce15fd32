//! The accept loop. Ours rather than `axum::serve`, whose graceful shutdown waits for every
//! request to be answered: a dark or banned gateway holds requests forever, so stopping must
//! drop their connections instead. Every connection is a task of one `JoinSet`, aborted when
//! the emulator stops: nothing outlives it.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// Serves `app` on `listener` until `stop` fires (or its sender is dropped), then closes the
/// listener and every connection.
pub(crate) async fn serve(listener: TcpListener, app: Router, mut stop: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                // A failed accept (the peer left, descriptors exhausted) loses one connection only.
                if let Ok((stream, peer)) = accepted {
                    connections.spawn(connection(stream, peer, app.clone()));
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// One connection (HTTP/1.1 or HTTP/2), its peer address given to the handlers.
async fn connection(stream: tokio::net::TcpStream, peer: SocketAddr, app: Router) {
    let service = TowerToHyperService::new(app.layer(axum::Extension(ConnectInfo(peer))));
    let _ = Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
