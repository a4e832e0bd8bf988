//! Closing a connection without losing its last answer ("lingering close", as web servers do).
//! Closing a socket that still holds unread bytes makes the kernel send a reset, and a client
//! still sending a body (one past what [`crate::connection`] reads) may then lose the answer
//! before reading it: curl reports "broken pipe". So when the server shuts a connection, its
//! sending side is closed first (the client sees the answer end) and what the client still
//! sends is read and dropped until it closes too, for at most [`LINGER_TIME`] and
//! [`LINGER_LIMIT`] bytes.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Longest wait for a client to stop sending once the server has closed its side.
pub const LINGER_TIME: Duration = Duration::from_secs(5);
/// Most bytes read and dropped meanwhile.
pub const LINGER_LIMIT: u64 = 64 << 20;

/// A connection whose shutdown lingers (see the module).
pub struct LingeringClose<S> {
    inner: S,
    linger: Option<Linger>,
}

struct Linger {
    deadline: Pin<Box<Sleep>>,
    dropped: u64,
}

impl<S> LingeringClose<S> {
    pub fn new(inner: S) -> Self {
        LingeringClose { inner, linger: None }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for LingeringClose<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for LingeringClose<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.linger.is_none() {
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            this.linger = Some(Linger {
                deadline: Box::pin(tokio::time::sleep(LINGER_TIME)),
                dropped: 0,
            });
        }
        let linger = this.linger.as_mut().expect("set above");
        if linger.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ok(()));
        }
        let mut scratch = [0u8; 8192];
        loop {
            let mut read = ReadBuf::new(&mut scratch);
            // The end of the stream or an error: the client is done.
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read)).ok();
            let n = read.filled().len() as u64;
            linger.dropped += n;
            if n == 0 || linger.dropped > LINGER_LIMIT {
                return Poll::Ready(Ok(()));
            }
        }
    }
}
