//! Keeping a connection usable after an answer that did not read its request's body (a 401
//! without a token, a 404, a 403, a 413). HTTP/1.1 cannot carry the next request until the
//! body is off the wire, and a client still sending a body it is not read from sees a reset
//! ("broken pipe") instead of the answer; on HTTP/2 the stream is reset. So once the handler
//! is done, what it left of the body is read and thrown away — up to [`DRAIN_LIMIT`] bytes
//! ([`DRAIN_LIMIT_HTTP2`] on HTTP/2) and [`DRAIN_TIME`] — before the answer goes out. Only a
//! body beyond that closes an HTTP/1.1 connection (`Connection: close`, and the answer still
//! arrives: see [`crate::linger`]), as does a body its client holds back until `100 Continue`
//! (reading it would ask for it). HTTP/2 forbids connection-specific headers: none is ever sent
//! there.

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::header::{CONNECTION, EXPECT};
use axum::http::{HeaderValue, Version};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::Duration;

/// Most bytes of an unread body read and thrown away on HTTP/1.1: twice the largest manifest a
/// registry client may push (4 MiB), so a refused manifest push always gets its answer.
pub const DRAIN_LIMIT: u64 = 8 << 20;
/// The same on HTTP/2, where reading one stream holds up no other: beyond it the stream is
/// reset, which some clients (curl) report as an error instead of the answer.
pub const DRAIN_LIMIT_HTTP2: u64 = 256 << 20;
/// Longest time spent on that, so a client that sends slowly cannot hold the server.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

type Unread = Arc<Mutex<Option<axum::body::BodyDataStream>>>;

/// The middleware: the handler reads the body through a shared handle, and whatever it left
/// is drained afterwards.
pub async fn keep_usable(request: Request, next: Next) -> Response {
    let http1 = request.version() <= Version::HTTP_11;
    // Not the headers: an HTTP/2 body may come without a length.
    let has_body = !request.body().is_end_stream();
    // A client that waits for `100 Continue` has sent nothing yet: reading would ask it to.
    let waits = request
        .headers()
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if !has_body {
        return without_connection_headers(next.run(request).await, http1);
    }
    let (parts, body) = request.into_parts();
    let unread: Unread = Arc::new(Mutex::new(Some(body.into_data_stream())));
    let shared = unread.clone();
    let proxy = futures::stream::poll_fn(move |cx| {
        let mut slot = shared.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(stream) = slot.as_mut() else {
            return Poll::Ready(None);
        };
        let next = stream.poll_next_unpin(cx);
        if let Poll::Ready(None) = next {
            *slot = None;
        }
        next
    });
    let mut response = next.run(Request::from_parts(parts, Body::from_stream(proxy))).await;
    let rest = unread.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(rest) = rest
        && (waits || !drain(rest, if http1 { DRAIN_LIMIT } else { DRAIN_LIMIT_HTTP2 }).await)
        && http1
    {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    without_connection_headers(response, http1)
}

/// Reads and drops what is left of a body; `true` when it ended within the limits.
async fn drain(mut rest: axum::body::BodyDataStream, limit: u64) -> bool {
    let read_all = async {
        let mut seen = 0u64;
        while let Some(chunk) = rest.next().await {
            let Ok(chunk) = chunk else {
                return false;
            };
            seen += chunk.len() as u64;
            if seen > limit {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, read_all).await.unwrap_or(false)
}

fn without_connection_headers(mut response: Response, http1: bool) -> Response {
    if !http1 {
        response.headers_mut().remove(CONNECTION);
    }
    response
}
