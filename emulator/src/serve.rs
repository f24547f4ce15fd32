//! The accept loop. Ours rather than `axum::serve`, whose graceful shutdown waits for every
//! request to be answered: a dark or banned gateway holds requests forever, so stopping must
//! drop their connections instead. Every connection is a task of one `JoinSet`, aborted when
//! the emulator stops: nothing outlives it.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Poll;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// Serves `app` on `listener` until `stop` fires (or its sender is dropped), then closes the
/// listener and every connection.
pub(crate) async fn serve(listener: TcpListener, app: Router, mut stop: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        match next_event(&listener, &mut connections, &mut stop).await {
            Event::Stop => break,
            // A failed accept (the peer left, descriptors exhausted) loses one connection only.
            Event::Accepted(Ok((stream, peer))) => {
                connections.spawn(connection(stream, peer, app.clone()));
            }
            Event::Accepted(Err(_)) | Event::Ended => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// The client's address, given to every handler of its connection (the per-IP quota).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

/// What woke the accept loop.
enum Event {
    Stop,
    Accepted(std::io::Result<(TcpStream, SocketAddr)>),
    /// A connection ended (its task is reaped so the set does not grow).
    Ended,
}

/// The first of: stop, a new connection, a connection that ended. Polled by hand rather
/// than with `tokio::select!`, whose proc-macro crate would put `syn` in the emulator's
/// dependency tree.
async fn next_event(
    listener: &TcpListener,
    connections: &mut JoinSet<()>,
    stop: &mut oneshot::Receiver<()>,
) -> Event {
    std::future::poll_fn(|cx| {
        if Pin::new(&mut *stop).poll(cx).is_ready() {
            return Poll::Ready(Event::Stop);
        }
        if let Poll::Ready(accepted) = listener.poll_accept(cx) {
            return Poll::Ready(Event::Accepted(accepted));
        }
        match connections.poll_join_next(cx) {
            Poll::Ready(Some(_)) => Poll::Ready(Event::Ended),
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// One connection (HTTP/1.1 or HTTP/2), its peer address given to the handlers.
async fn connection(stream: TcpStream, peer: SocketAddr, app: Router) {
    let service = TowerToHyperService::new(app.layer(axum::Extension(Peer(peer))));
    let _ = Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
