//! Injected connection resets: a handler asks for its connection to be
//! dropped without an answer, and the socket is closed with a TCP RST
//! (zero linger), so the client sees a transport error, as when a load
//! balancer or the network drops a connection.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// One connection's reset switch, shared by its requests and its task.
#[derive(Default)]
pub(crate) struct Reset {
    requested: AtomicBool,
    notify: Notify,
}

impl Reset {
    /// Asks the connection's task to drop the connection, with a RST.
    pub(crate) fn request(&self) {
        self.requested.store(true, Ordering::Release);
        // Kept as a permit if the task is not waiting right now.
        self.notify.notify_one();
    }

    /// Resolves once [`Reset::request`] was called.
    pub(crate) async fn requested(&self) {
        self.notify.notified().await;
    }
}

/// A TCP stream that closes with a RST instead of a FIN when its
/// connection's [`Reset`] was requested.
pub(crate) struct ResettableStream {
    stream: TcpStream,
    reset: std::sync::Arc<Reset>,
}

impl ResettableStream {
    pub(crate) fn new(stream: TcpStream, reset: std::sync::Arc<Reset>) -> Self {
        ResettableStream { stream, reset }
    }
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.requested.load(Ordering::Acquire) {
            // Zero linger: close() sends a RST and discards unsent data,
            // without blocking.
            if let Err(e) = self.stream.set_zero_linger() {
                tracing::debug!(error = %e, "cannot set zero linger; the connection closes with a FIN");
            }
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
