//! Paging through list actions as streams of pages or of items.
//!
//! Generated code implements [`Paginated`] (and [`OffsetPaged`] or
//! [`TokenPaged`]) for every action whose spec pages; this module holds all
//! the logic: page sizes, when to stop, and the safety limit.
//!
//! **When the set changes while paging.** Offset paging reads the listing as
//! it is when each page is asked for. An item removed from before the
//! current offset shifts the rest back, so the next page skips one item; an
//! item added before it shifts them forward, so one item comes twice. Each
//! page's `TotalCount` is used to decide when to stop. Whatever the server
//! does, paging ends: on an empty or short page, on reaching `TotalCount`,
//! on an absent or repeated `NextToken`, or after
//! [`Paginator::with_max_pages`] pages (default 10 000), which ends the
//! stream with [`InvalidResponseKind::EndlessPaging`].

use futures::stream::{self, Stream, TryStreamExt};

use super::{Action, CallOptions, Client, Error, InvalidResponseKind};

/// An action that pages: implemented by generated code.
#[doc(hidden)]
pub trait Paginated: Action + Clone + Send + Sync + 'static {
    /// One element of a page's list (`Instance` for `DescribeInstances`).
    type Item: Send + 'static;
    /// [`ByOffset`] or [`ByToken`].
    type Style: PagingStyle<Self>;
    /// The largest page the spec allows, asked for unless the caller sets a
    /// size; `None` when the spec does not say (the service's default applies).
    const MAX_PAGE_SIZE: Option<i64>;
    /// The page size the request asks for (`Limit`, `MaxResults`), if set.
    fn page_size(&self) -> Option<i64>;
    fn set_page_size(&mut self, size: i64);
    /// How many items a page holds.
    fn item_count(response: &Self::Response) -> usize;
    /// The page's items.
    fn into_items(response: Self::Response) -> Vec<Self::Item>;
}

/// `Offset`, `Limit` and `TotalCount` paging.
#[doc(hidden)]
pub trait OffsetPaged: Paginated {
    /// Where the caller asked to start (`Offset`).
    fn offset(&self) -> Option<i64>;
    fn set_offset(&mut self, offset: i64);
    /// The answer's `TotalCount`.
    fn total_count(response: &Self::Response) -> Option<i64>;
}

/// `NextToken` paging.
#[doc(hidden)]
pub trait TokenPaged: Paginated {
    fn set_next_token(&mut self, token: Option<String>);
    /// The answer's `NextToken`; absent or empty on the last page.
    fn next_token(response: &Self::Response) -> Option<&str>;
}

/// How the next request follows from a page.
#[doc(hidden)]
pub trait PagingStyle<A: Paginated>: Send + 'static {
    /// What is remembered between pages.
    type State: Send + 'static;
    fn start(request: &mut A) -> Self::State;
    /// Prepares `request` for the page after `response`; `Ok(false)` when
    /// there is none, `Err(reason)` when paging would not end.
    fn advance(
        state: &mut Self::State,
        request: &mut A,
        response: &A::Response,
        page_size: Option<i64>,
    ) -> Result<bool, String>;
}

/// The style of [`OffsetPaged`] actions.
#[derive(Debug)]
#[doc(hidden)]
pub struct ByOffset;

/// The style of [`TokenPaged`] actions.
#[derive(Debug)]
#[doc(hidden)]
pub struct ByToken;

impl<A: OffsetPaged> PagingStyle<A> for ByOffset {
    /// The offset of the next page.
    type State = i64;

    /// Where the request says, else 0, written into the request: some
    /// actions (CVM's `DescribeTaskInfo`) require `Offset`.
    fn start(request: &mut A) -> i64 {
        let offset = request.offset().unwrap_or(0).max(0);
        request.set_offset(offset);
        offset
    }

    fn advance(
        offset: &mut i64,
        request: &mut A,
        response: &A::Response,
        page_size: Option<i64>,
    ) -> Result<bool, String> {
        let got = i64::try_from(A::item_count(response)).unwrap_or(i64::MAX);
        *offset = offset.saturating_add(got);
        let short = page_size.is_some_and(|size| got < size);
        let reached = A::total_count(response).is_some_and(|total| *offset >= total);
        if got == 0 || short || reached {
            return Ok(false);
        }
        request.set_offset(*offset);
        Ok(true)
    }
}

impl<A: TokenPaged> PagingStyle<A> for ByToken {
    /// The token of the page just asked for.
    type State = Option<String>;

    fn start(_request: &mut A) -> Option<String> {
        None
    }

    fn advance(
        previous: &mut Option<String>,
        request: &mut A,
        response: &A::Response,
        _page_size: Option<i64>,
    ) -> Result<bool, String> {
        let Some(next) = A::next_token(response).filter(|t| !t.is_empty()) else {
            return Ok(false);
        };
        if previous.as_deref() == Some(next) {
            return Err(format!("the service answered NextToken `{next}` again"));
        }
        *previous = Some(next.to_owned());
        request.set_next_token(Some(next.to_owned()));
        Ok(true)
    }
}

/// Pages of one list action, as a stream of pages ([`Paginator::by_page`])
/// or of items ([`Paginator::by_item`]). Each page is one call through the
/// client's pipeline, retried like any other; the first error ends the stream.
///
/// ```text
/// use futures::TryStreamExt;
/// let all: Vec<cvm_api::Instance> = cvm
///     .describe_instances()
///     .into_paginator()
///     .by_item()
///     .try_collect()
///     .await?;
/// ```
#[derive(Debug)]
#[must_use = "a paginator does nothing until its stream is polled"]
pub struct Paginator<A: Paginated> {
    client: Client,
    options: CallOptions,
    request: A,
    page_size: Option<i64>,
    max_pages: usize,
}

impl<A: Paginated> Paginator<A> {
    /// The default safety limit: far beyond any real listing at the largest page size.
    pub const DEFAULT_MAX_PAGES: usize = 10_000;

    /// Pages of `request`, starting where it says (its `Offset`), sent
    /// through `client` with `options`.
    #[doc(hidden)]
    pub fn new(client: Client, options: CallOptions, request: A) -> Self {
        Paginator {
            client,
            options,
            // A size of 0 (a required `Limit` left at its default) means unset.
            page_size: request.page_size().filter(|size| *size > 0).or(A::MAX_PAGE_SIZE),
            request,
            max_pages: Self::DEFAULT_MAX_PAGES,
        }
    }

    /// Items per page, instead of the request's or the spec's maximum.
    pub fn with_page_size(mut self, size: i64) -> Self {
        self.page_size = Some(size);
        self
    }

    /// The most pages asked for; past it, the stream ends with an
    /// [`InvalidResponseKind::EndlessPaging`] error.
    pub fn with_max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// Every page's answer, in order.
    pub fn by_page(self) -> impl Stream<Item = Result<A::Response, Error<A::Error>>> + Send {
        struct State<A: Paginated> {
            paginator: Paginator<A>,
            style: <A::Style as PagingStyle<A>>::State,
            pages: usize,
            next: Next,
        }
        enum Next {
            Page,
            End,
            /// The last page was good, but paging would not end: say so next.
            Fail(String),
        }
        let mut paginator = self;
        if let Some(size) = paginator.page_size {
            paginator.request.set_page_size(size);
        }
        let style = A::Style::start(&mut paginator.request);
        let state = State {
            style,
            paginator,
            pages: 0,
            next: Next::Page,
        };
        stream::unfold(state, |mut state| async move {
            match std::mem::replace(&mut state.next, Next::End) {
                Next::End => return None,
                Next::Fail(reason) => return Some((Err(endless(reason)), state)),
                Next::Page => {}
            }
            let p = &mut state.paginator;
            if state.pages >= p.max_pages {
                let reason = format!("paging did not end after {} pages", p.max_pages);
                return Some((Err(endless(reason)), state));
            }
            state.pages += 1;
            let response = match p.client.send_with(&p.request, &p.options).await {
                Ok(response) => response,
                Err(e) => return Some((Err(e), state)),
            };
            state.next = match A::Style::advance(&mut state.style, &mut p.request, &response, p.page_size) {
                Ok(true) => Next::Page,
                Ok(false) => Next::End,
                Err(reason) => Next::Fail(reason),
            };
            tracing::debug!(
                action = A::NAME,
                page = state.pages,
                items = A::item_count(&response),
                "page"
            );
            Some((Ok(response), state))
        })
    }

    /// Every item of every page, in order.
    pub fn by_item(self) -> impl Stream<Item = Result<A::Item, Error<A::Error>>> + Send {
        self.by_page()
            .map_ok(|page| stream::iter(A::into_items(page).into_iter().map(Ok)))
            .try_flatten()
    }
}

fn endless<E>(reason: String) -> Error<E> {
    Error::InvalidResponse {
        status: 200,
        body: String::new(),
        reason,
        kind: InvalidResponseKind::EndlessPaging,
        attempts: 1,
    }
}
