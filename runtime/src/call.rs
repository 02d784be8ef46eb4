//! One call being prepared: a request, the options for this call, and the
//! client to send it through. Generated crates wrap it in their own `Call`
//! type, which adds a setter per request member; everything that does not
//! depend on the action lives here, once.

use std::time::Duration;

use crate::{Action, CallOptions, Client, Error, Paginated, Paginator, RetryConfig};

/// A call of action `A`, ready to be adjusted and sent.
///
/// It owns what it needs (a handle on the shared client, the request, the
/// options), so the future of [`send`](Call::send) can be spawned.
#[derive(Clone, Debug)]
#[must_use = "a call does nothing until it is sent"]
pub struct Call<A> {
    client: Client,
    options: CallOptions,
    request: A,
}

impl<A> Call<A> {
    /// A call of `request` through `client`, with `options` as the service
    /// client's defaults for it.
    #[doc(hidden)]
    pub fn new(client: Client, options: CallOptions, request: A) -> Self {
        Call {
            client,
            options,
            request,
        }
    }

    /// The request as it stands.
    pub fn as_request(&self) -> &A {
        &self.request
    }

    /// The request, for generated setters to fill in.
    #[doc(hidden)]
    pub fn request_mut(&mut self) -> &mut A {
        &mut self.request
    }

    /// The request, leaving the call.
    pub fn into_request(self) -> A {
        self.request
    }

    /// The options this call will be sent with.
    pub fn options(&self) -> &CallOptions {
        &self.options
    }

    /// Sets every option that `options` sets; the others keep what the
    /// service client (or an earlier setter) gave this call.
    pub fn with_options(mut self, options: CallOptions) -> Self {
        self.options = self.options.overlaid_with(options);
        self
    }

    /// Time allowed for each attempt of this call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Time allowed for the whole call, retries and backoff included.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.options.deadline = Some(deadline);
        self
    }

    /// The retry policy of this call, e.g. `RetryConfig::disabled()`.
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.options.retry = Some(retry);
        self
    }

    /// The region of this call (e.g. `ap-shanghai`), instead of the
    /// client's: one client serves every region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.options.region = Some(region.into());
        self
    }

    /// How this call is paced by the client's rate limiter, e.g.
    /// `RateLimit::Off` for a call that must not wait.
    pub fn with_rate_limit(mut self, rate_limit: crate::RateLimit) -> Self {
        self.options.rate_limit = Some(rate_limit);
        self
    }

    /// Whether repeating this call is safe, overriding what the action says.
    pub fn with_idempotent(mut self, idempotent: bool) -> Self {
        self.options.idempotent = Some(idempotent);
        self
    }
}

impl<A: Action> Call<A> {
    /// Checks the request (a missing or invalid member is
    /// [`Error::InvalidRequest`], and nothing is sent), then sends it as
    /// [`Client::send`] does.
    pub async fn send(self) -> Result<A::Response, Error<A::Error>> {
        self.client.send_with(&self.request, &self.options).await
    }
}

impl<A: Paginated> Call<A> {
    /// Every page of this call's answer, starting where the request says.
    pub fn into_paginator(self) -> Paginator<A> {
        Paginator::new(self.client, self.options, self.request)
    }
}
