//! The runtime's integration tests, one module per subject, in one test
//! binary: a binary per file compiled the helpers and linked every
//! dependency again. `retry_trace` keeps a binary of its own: its tests
//! install `tracing` subscribers, which other tests' threads would upset.

#[path = "../support/credential_env.rs"]
mod credential_env;
#[path = "../support/mod.rs"]
mod support;

mod attack;
mod client_config;
mod client_http;
mod credentials;
mod fleet;
mod pipeline;
mod waiter_at_run_time;
