//! The workspace's automation, as a library so its own tests can drive it.

pub mod build_cost;
pub mod cargo_env;
pub mod cli_descriptions;
pub mod exhaustive;
pub mod facade;
pub mod import;
pub mod official;
pub mod rate_limits;
pub mod regen;
pub mod sdk_codes;
pub mod service;
pub mod services;
