//! The default transport: a reqwest client (hyper, one connection pool).

use std::time::Duration;

use super::{HttpRequest, HttpResponse, HttpTransport, ResponseBody, TransportFuture};
use crate::{Config, ConfigError, TransportError, TransportErrorKind};

/// Sends through one [`reqwest::Client`]: pooled connections, HTTP/1.1 and
/// HTTP/2, TLS as the crate's features choose, redirects never followed.
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    /// The client's own timeout: a request needing another sets its own
    /// (which costs a timer, so only then). `None`: the caller bounds each
    /// exchange, and this transport sets no timer at all.
    own_timeout: Option<Duration>,
}

impl ReqwestTransport {
    /// The transport `config` asks for: its timeouts, its
    /// [`with_http_client`](Config::with_http_client) customisation, and
    /// the SDK's `User-Agent`. What [`Client::new`](crate::Client::new)
    /// uses unless the configuration has a transport of its own; for
    /// wrapping the default in a transport of one's own (to record
    /// exchanges, say).
    ///
    /// Its requests have no total timeout of their own: the runtime bounds
    /// every exchange by [`HttpRequest::timeout`] with its own timer, which
    /// it needs anyway for transports that ignore the field, and a second
    /// timer per request only costs. The connect timeout is kept.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let mut builder = reqwest::Client::builder().user_agent(super::SDK_USER_AGENT);
        if let Some(customize) = config.http_client_hook() {
            builder = customize(builder);
        }
        let client = builder
            // The API never redirects. Following one would resend the signed
            // body and the session token to whatever host `Location` names,
            // and report that host's answer as the service's.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout())
            .build()
            .map_err(|e| ConfigError::HttpClient(Box::new(e)))?;
        Ok(ReqwestTransport {
            client,
            own_timeout: None,
        })
    }
}

impl ReqwestTransport {
    /// Sends through `client`, whose own timeout is `timeout`. The client
    /// must not follow redirects (`reqwest::redirect::Policy::none()`).
    pub fn from_client(client: reqwest::Client, timeout: Duration) -> Self {
        ReqwestTransport {
            client,
            own_timeout: Some(timeout),
        }
    }
}

impl HttpTransport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            // Built whole rather than through `RequestBuilder`, which would
            // copy every header into a map of its own.
            let mut outgoing = reqwest::Request::new(request.method, request.url);
            *outgoing.headers_mut() = request.headers;
            *outgoing.body_mut() = Some(request.body.into());
            if self.own_timeout.is_some_and(|own| own != request.timeout) {
                *outgoing.timeout_mut() = Some(request.timeout);
            }
            let mut response = self.client.execute(outgoing).await.map_err(transport_error)?;
            let status = response.status().as_u16();
            let headers = std::mem::take(response.headers_mut());
            let chunks = futures::stream::unfold(Some(response), |response| async move {
                let mut response = response?;
                match response.chunk().await {
                    Ok(Some(chunk)) => Some((Ok(chunk), Some(response))),
                    Ok(None) => None,
                    Err(e) => Some((Err(transport_error(e)), None)),
                }
            });
            Ok(HttpResponse {
                status,
                headers,
                body: ResponseBody::from_stream(chunks),
            })
        })
    }
}

fn transport_error(e: reqwest::Error) -> TransportError {
    let e = TransportError::new(transport_kind(&e), Box::new(e));
    tracing::debug!(error = %e, "transport error");
    e
}

/// Sorts a reqwest failure into the kinds callers act on.
fn transport_kind(e: &reqwest::Error) -> TransportErrorKind {
    if e.is_timeout() {
        return TransportErrorKind::Timeout;
    }
    if e.is_connect() {
        return TransportErrorKind::Connect;
    }
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(cause) = next {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
            ) {
                return TransportErrorKind::Reset;
            }
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            if hyper.is_incomplete_message() || hyper.is_canceled() || hyper.is_closed() {
                return TransportErrorKind::Reset;
            }
        }
        next = cause.source();
    }
    TransportErrorKind::Other
}
