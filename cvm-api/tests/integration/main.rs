//! cvm-api's integration tests, one module per subject, in one test binary
//! (a binary per file compiled the helpers and linked every dependency
//! again); `answer_limits` keeps a binary of its own, since it reads its
//! process's peak memory.

#[path = "../support/mod.rs"]
mod support;

mod error_codes;
mod example_vs_official_verifier;
mod examples_cli;
mod official_examples;
mod open_enums;
mod paginated_actions;
mod required_members;
mod test_doubles;
