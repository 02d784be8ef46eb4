//! `tcloud`: every Tencent Cloud API from the command line, tccli's syntax,
//! driven at run time by the embedded API descriptions (see `catalog`).
//!
//! A command decodes one service's description, checks the parameters
//! against it (`spec-check`: types, unknown and missing members,
//! `rules.json`), sends through the runtime's untyped call (signing, retries,
//! clock-skew repair, the credential chain) and prints the answer as tccli
//! does. It compiles no action in: the 16 000 actions cost their
//! descriptions' bytes, not code.

mod args;
pub mod catalog;
mod completion;
pub mod error;
mod format;
mod help;
mod output;
pub mod params;
mod run;
mod settings;
mod waiters;

pub use run::main;
