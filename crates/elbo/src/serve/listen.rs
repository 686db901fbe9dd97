//! The accept loop: hyper's HTTP/1 server under the router, with a bound on
//! how long a client may take to send what it owes. `axum::serve` sets no
//! timer, so hyper's header timeout never fires there; here a connection
//! that sends no request (a fresh one, or an idle keep-alive one), or sends
//! its header too slowly, is closed after the bound, and a body that does
//! not arrive within it gets a 408. Stopping closes idle connections at
//! once, lets requests under way finish, then returns.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::serve::BODY_LIMIT;

/// How long a client may stay silent by default: 30 s.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The bounds a server holds its clients to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest a connection may go without sending a whole request
    /// header (from its opening or its previous response), and the longest
    /// a request's body may take to arrive.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { idle: IDLE_TIMEOUT }
    }
}

/// Serves `router` on `listener` until `stop` completes; then stops
/// accepting and waits for the open connections to finish.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) {
    let idle = limits.idle;
    let router = router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| bounded_body(req, next, idle),
    ));
    // Dropping `stopping` tells every connection to shut down gracefully;
    // each holds a `done` receiver, so `done_tx.closed()` waits for them all.
    let (stopping, stopped) = watch::channel(());
    let (done_tx, done) = watch::channel(());
    let mut stop = pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors or a connection reset before it
                // was accepted: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let (mut stopped, done) = (stopped.clone(), done.clone());
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(idle);
            let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopped.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(done);
        });
    }
    drop(listener);
    drop((stopping, stopped, done));
    done_tx.closed().await;
}

/// Reads the whole body (at most [`BODY_LIMIT`] bytes) within `idle`
/// before the handler runs: 408 if it does not arrive in time, 413 if it
/// is too large or breaks off.
async fn bounded_body(req: Request, next: Next, idle: Duration) -> Response {
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(idle, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over {BODY_LIMIT} bytes or broke off"),
        ),
        Err(_) => error(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                idle.as_secs_f64()
            ),
        ),
    }
}

/// A JSON error that also closes the connection (its rest is unread).
fn error(status: StatusCode, msg: String) -> Response {
    let body = axum::Json(serde_json::json!({ "error": msg }));
    (status, [(header::CONNECTION, "close")], body).into_response()
}
