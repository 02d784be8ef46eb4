//! CVM 2017-03-12, the service the emulator keeps state for: its requests
//! at the gateway, its emulated actions, its instances and the state file
//! that keeps them.

pub(crate) mod actions;
pub(crate) mod catalog;
pub(crate) mod change_state;
pub(crate) mod common;
pub(crate) mod describe;
pub(crate) mod ids;
pub(crate) mod images;
pub(crate) mod instances;
pub(crate) mod keypairs;
pub(crate) mod launch;
pub(crate) mod modify;
pub(crate) mod persist;
pub(crate) mod regions;
pub(crate) mod request;
pub(crate) mod resources;
pub(crate) mod state_file;
pub(crate) mod store;
pub(crate) mod tokens;
pub(crate) mod transitions;

/// The API version the emulator implements (`X-TC-Version`).
pub const API_VERSION: &str = "2017-03-12";
/// The service name in the credential scope.
pub const SERVICE: &str = "cvm";
