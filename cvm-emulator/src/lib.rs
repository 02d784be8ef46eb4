//! A local Tencent Cloud CVM endpoint (API version 2017-03-12) for tests.
//!
//! The emulator verifies TC3-HMAC-SHA256 signatures like the real gateway,
//! keeps instance state like the real service (with timed transitions such
//! as `STOPPED → STARTING → RUNNING`), and answers with the real error codes
//! in the API 3.0 envelope. Our [`cvm_api::Client`], the official SDKs and
//! users' own code can run against it unchanged: only the endpoint differs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use cvm_emulator::{Emulator, EmulatorConfig, State, StoredInstance};
//!
//! let state = State::new().with_instance(StoredInstance::new("ins-abcd1234", "ap-guangzhou-3", "STOPPED"));
//! let emulator = Emulator::start(EmulatorConfig::default().with_state(state), "127.0.0.1:0").await?;
//! let client = emulator.client("ap-guangzhou")?; // signed with the first credential
//! client.start_instances().instance_ids("ins-abcd1234").send().await?;
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # What is emulated
//!
//! Every request goes through the gateway checks, in this order: the HTTP
//! method, POST or GET (`UnsupportedProtocol`), body size
//! (`RequestSizeLimitExceeded`), `Authorization`
//! (`AuthFailure.InvalidAuthorization`), `X-TC-Timestamp` within 300 s
//! (`AuthFailure.SignatureExpire`), the secret id
//! (`AuthFailure.SecretIdNotFound`), a temporary credential's expiry and
//! `X-TC-Token` (`AuthFailure.TokenFailure`), the body's arrival within the read
//! timeout (`InvalidRequest`), the signature
//! (`AuthFailure.SignatureFailure`; the credential scope's service picks
//! the version, actions and region rules that follow, see
//! [below](crate#every-service-in-the-workspace)), `X-TC-Version` (`NoSuchVersion`),
//! `X-TC-Action` (`InvalidAction`), `X-TC-Region` (`MissingParameter`
//! unless the action is DescribeRegions, `UnsupportedRegion` outside
//! [`REGIONS`]), the rate limit (`RequestLimitExceeded`),
//! then the parameters against the spec for **every** one of the 106 actions
//! (`InvalidParameter`, `UnknownParameter`, `MissingParameter`,
//! `InvalidParameterValue`). The body is only buffered once the checks
//! that need none have passed: a declared `Content-Length` is judged
//! without reading, and a body of unknown length (chunked) is measured
//! without being kept when an earlier check fails. At most
//! [`EmulatorConfig::max_buffered_bytes`] of bodies are buffered at once,
//! taken once a body passes the first 16 KiB of one body per connection
//! (so small requests never wait), then for the whole body at once; at
//! most 64 bodies wait for room, and one more is answered
//! `RequestLimitExceeded` at once. What connections read ahead is bounded
//! too (32 KiB on HTTP/1, the 64 KiB initial window on HTTP/2). A JSON body is decoded straight into the typed
//! request (at most 10 000 values), so decoding costs about the body's
//! size once more, not a multiple of it. Both POST with a JSON body and GET with the
//! parameters in the query (`InstanceIds.0=...&Limit=20`) are accepted. Every
//! answer is HTTP 200 with `{"Response": {..., "RequestId"}}`.
//!
//! The actions in [`EMULATED_ACTIONS`] answer from the state: the
//! instance lifecycle (RunInstances, DescribeInstances,
//! DescribeInstancesStatus, StartInstances, StopInstances, RebootInstances,
//! TerminateInstances) and the catalogs a provisioning program reads first
//! (DescribeRegions, DescribeZones, DescribeImages,
//! DescribeInstanceTypeConfigs, DescribeZoneInstanceConfigInfos: data
//! shipped with the emulator, and RunInstances takes the zones and types
//! they list), and key pairs (CreateKeyPair, ImportKeyPair,
//! DescribeKeyPairs, DeleteKeyPairs, AssociateInstancesKeyPairs,
//! DisassociateInstancesKeyPairs; RunInstances takes
//! `LoginSettings.KeyIds`), changes to instances (ModifyInstancesAttribute,
//! ResetInstancesType, ResetInstancesPassword, ResetInstance,
//! ResizeInstanceDisks) and images made from them
//! (CreateImage, DeleteImages). Other actions are decoded and checked, then answered with
//! `UnsupportedOperation` ("... is not emulated").
//!
//! Instances belong to the region of their zone and requests see only those
//! of their `X-TC-Region`. Transitions are computed lazily from timestamps:
//! there is no background task, and a zero transition time is instant.
//!
//! # Every service in the workspace
//!
//! The listener serves every service whose description is in the
//! workspace's `spec/` (embedded at build time): CVM, STS, VPC, CBS, CLB and
//! Tag today. The credential scope names the service
//! (`.../vpc/tc3_request`); on a Tencent Cloud host
//! (`vpc.tencentcloudapi.com`) the scope must name the host's service
//! (`AuthFailure.SignatureFailure` otherwise). Each service's requests pass
//! the same checks as CVM's, against that service's version, actions and
//! description (typed requests for the emulated actions). Besides CVM's and
//! STS's actions, VPC's networks are emulated ([`VPC_EMULATED_ACTIONS`]):
//! `DescribeVpcs` and `DescribeSubnets` list the region's default VPC and
//! its zones' default subnets (derived from the instances in them, so their
//! ids always match `DescribeInstances`') and those `CreateVpc` and
//! `CreateSubnet` made, which `DeleteVpc` and `DeleteSubnet` remove once
//! nothing lives in them; security groups and their rules likewise (the
//! region's default group, then the created ones), and elastic IPs. CBS's disks are
//! emulated too ([`CBS_EMULATED_ACTIONS`]), and RunInstances' `DataDisks`
//! become disks attached to the instance. The tag service
//! ([`TAG_EMULATED_ACTIONS`]) tags every kind of resource the emulator
//! keeps, where that resource's description keeps its tags. Every other action of these services is checked,
//! then answered `UnsupportedOperation`.
//!
//! # Launch failures, termination and paging (for waiters and paginators)
//!
//! - **A launch that fails**: RunInstances with `ImageId`
//!   [`LAUNCH_FAILURE_IMAGE_ID`] (`img-nolaunch`), or an image given to
//!   [`EmulatorConfig::with_failing_image`] (the CLI's
//!   `--fail-launch-image`), succeeds and returns ids, but the instances go
//!   PENDING → `LAUNCH_FAILED` instead of RUNNING after the transition time.
//!   Their `LatestOperation` is `RunInstances`, `LatestOperationRequestId`
//!   that call's `RequestId`, and `LatestOperationState` `OPERATING` while
//!   PENDING, then `FAILED` (with a `LatestOperationErrorMsg`); after a
//!   normal launch it is `SUCCESS`. A LAUNCH_FAILED instance can only be
//!   terminated.
//! - **Termination**: TerminateInstances puts instances in `TERMINATING`
//!   for the transition time; then they leave DescribeInstances and
//!   DescribeInstancesStatus (asked for by id, they are left out; other
//!   actions answer `InvalidInstanceId.NotFound`),
//!   which is what the service does for a pay-as-you-go instance. The
//!   emulator does the same for every charge type (the service moves a
//!   `PREPAID` instance to the recycle bin, `SHUTDOWN`, first).
//! - **Order and paging**: without `InstanceIds`, DescribeInstances and
//!   DescribeInstancesStatus list the region's instances oldest first
//!   (seeds in their order, then by creation; a batch in the order of
//!   `InstanceIdSet`), the same on every call, so `Offset`/`Limit` pages
//!   partition the set. New instances go at the end; a state change never
//!   moves an instance. `Limit` is 20 by default, at most 100
//!   (`InvalidParameterValue` above); an `Offset` past the end gives an
//!   empty page; `TotalCount` is the number matching the filters, not the
//!   page's. With `InstanceIds`, the order is the request's (duplicates
//!   dropped, unknown ids skipped). While the set changes between pages,
//!   an instance added is seen on a later page, one removed that was not
//!   yet returned is simply not returned, and each removal of one already
//!   returned makes the following pages skip one instance (the usual
//!   consequence of `Offset` paging).
//!
//! # Keeping state
//!
//! With [`EmulatorConfig::with_state_file`] (the CLI's `--state FILE`) every
//! change is on disk before it is answered, and survives a crash or
//! `kill -9`: it is appended to `FILE.journal` and flushed (concurrent
//! requests share a flush), and the journal is folded into `FILE` at start,
//! at shutdown and when it grows past [`EmulatorConfig::journal_limit_bytes`].
//! `FILE.lock` keeps a second emulator off the same file. A file that
//! cannot be read, a journal damaged before its last record, or a directory
//! that cannot be written stop the emulator from starting, and nothing is
//! overwritten.
//!
//! # Fault injection
//!
//! [`EmulatorConfig::faults`] (the CLI's `--fault-*`, `--latency-ms` and
//! `--fault-seed`) injects `RequestLimitExceeded`, `InternalError`, connection
//! resets before or after the action takes effect, and latency, into
//! authenticated, well-formed requests only, from one seeded PRNG (see
//! [`FaultConfig`]). [`EmulatorConfig::clock_skew_secs`] sets the
//! emulator's clock apart from the machine's, for the timestamp check and
//! the `Date` header of every answer. [`RunningEmulator::fault_stats`] and
//! [`RunningEmulator::request_count`] say what the emulator saw.
//!
//! # Credentials
//!
//! Without configuration the emulator accepts one demo credential,
//! [`DEMO_SECRET_ID`] / [`DEMO_SECRET_KEY`]
//! (`AKIDEMULATOR000000000000000000000000` / `emulator-demo-secret-key`).
//! They are deliberately fake and public: never use real keys with it.
//! `X-TC-Token` is ignored for these permanent credentials.
//!
//! # Temporary credentials: metadata service and STS
//!
//! The listener also serves what a credential provider fetches:
//!
//! - the metadata service's instance role, unauthenticated GETs:
//!   `/latest/meta-data/cam/security-credentials/` gives the role name
//!   ([`EmulatorConfig::instance_role`], default [`DEFAULT_ROLE_NAME`]) and
//!   `/latest/meta-data/cam/security-credentials/<role>` a new credential
//!   as JSON (`TmpSecretId`, `TmpSecretKey`, `Token`, `ExpiredTime`,
//!   `Expiration`, `Code`), valid [`EmulatorConfig::credential_ttl`];
//! - STS 2018-08-13 (credential scope `sts`, `X-TC-Version: 2018-08-13`):
//!   `AssumeRole`, signed by any valid credential (temporary ones too), and
//!   `AssumeRoleWithWebIdentity`, sent unsigned with `Authorization: SKIP`
//!   and the [`EmulatorConfig::web_identity_token`]
//!   (`InvalidParameter.WebIdentityTokenError` otherwise). They live
//!   `DurationSeconds` (default 7200, at most 43200) capped by the TTL.
//!
//! Temporary credentials are derived from a random key drawn at start,
//! never stored: the secret id holds its expiry and a MAC, the secret key
//! and token are MACs of the id. They work for every CVM action and for
//! `AssumeRole`, with `X-TC-Token`: missing, wrong or past `ExpiredTime`
//! (by the emulator's clock) is `AuthFailure.TokenFailure`, checked before
//! the body and the signature. They die with the process: after a restart
//! their ids are `AuthFailure.SecretIdNotFound`, and a client fetches anew.
//! [`RunningEmulator::credentials_issued`] counts them by source.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod atomic_file;
mod auth;
mod body;
mod cbs;
mod checked;
mod config;
mod conns;
mod cvm;
mod decode;
pub mod demo;
mod emulator;
mod error;
mod fallback;
mod faults;
mod gateway;
mod headers;
mod listener;
mod metadata;
mod query;
mod ratelimit;
mod reset;
mod server;
mod services;
mod shared;
mod sts;
mod tag;
mod time;
mod tmpcreds;
mod vpc;

pub use cbs::CBS_EMULATED_ACTIONS;
pub use config::{
    EmulatorConfig, StartError, DEMO_SECRET_ID, DEMO_SECRET_KEY, MAX_CLOCK_SKEW_SECS, MAX_CREDENTIAL_TTL,
    MAX_FAILING_IMAGES, MAX_WEB_IDENTITY_TOKEN_LEN,
};
pub use cvm::actions::EMULATED_ACTIONS;
pub use cvm::ids::new_instance_id;
pub use cvm::launch::LAUNCH_FAILURE_IMAGE_ID;
pub use cvm::regions::REGIONS;
pub use cvm::request::ACTIONS;
pub use cvm::state_file::{
    ClientTokenRecord, PendingTransition, ResourceKey, State, StateError, StoredInstance, StoredResource,
    TokenItem,
};
pub use cvm::transitions::{INSTANCE_STATES, TERMINATED};
pub use cvm::{API_VERSION, SERVICE};
pub use emulator::{Emulator, RunningEmulator};
pub use error::ApiError;
pub use faults::{FaultConfig, FaultStats, MAX_INJECTED_LATENCY};
pub use metadata::DEFAULT_ROLE_NAME;
pub use signer::SecretKey;
pub use sts::{STS_API_VERSION, STS_EMULATED_ACTIONS, STS_SERVICE};
pub use tag::TAG_EMULATED_ACTIONS;
pub use tmpcreds::CredentialsIssued;
pub use vpc::VPC_EMULATED_ACTIONS;
