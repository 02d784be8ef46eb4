//! The emulator's integration tests, one module per subject, in one test
//! binary: sixteen binaries each compiled and linked the helpers and every
//! dependency again, a fifth of the test command's build.

mod common;

mod catalog;
mod cli;
mod client;
mod credential_sources;
mod credentials;
mod described_answers;
mod disks;
mod durability;
mod fault_scenarios;
mod faults;
mod hostile;
mod instance_changes;
mod keypairs;
mod launch_and_paging;
mod load;
mod memory;
mod networks;
mod protocol;
mod python_sdk;
mod scenario;
mod seeding;
mod services;
mod starvation;
mod tags;
mod waiters_and_paginators;
