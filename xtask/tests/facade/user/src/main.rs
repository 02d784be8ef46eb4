//! A user's program on the `tencentcloud` crate alone: three generated
//! services and a curated one from one shared client, configured from the
//! environment (`TENCENTCLOUD_ENDPOINT` points it at a local server). Prints
//! one line per call: `<service> <Action> <RequestId>`.

use tencentcloud::{autoscaling, ba, sts, tsw};

/// Every name a service's root has, at `$path`: a service's module
/// (generated or a committed crate's root) and a version's module alike.
macro_rules! root_names {
    ($name:ident: $($path:ident)::+) => {
        #[allow(unused_imports)]
        mod $name {
            pub use tencentcloud::$($path)::+::{
                errors, runtime, types, Call, CallOptions, Client, Config, Error, Request, ServiceError,
                PAGINATED_ACTIONS,
            };
        }
    };
}
root_names!(ba_root: ba);
root_names!(sts_root: sts);
root_names!(tsw_root: tsw);
root_names!(tsw_v20200924: tsw::v20200924);
root_names!(tsw_v20210412: tsw::v20210412);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let shared = tencentcloud::from_env()?;

    // `autoscaling` signs as `as`, its endpoint's name.
    let groups = autoscaling::Client::new(&shared)
        .describe_auto_scaling_groups()
        .limit(10)
        .send()
        .await?;
    println!("autoscaling DescribeAutoScalingGroups {}", groups.request_id);
    println!("groups: {:?}", groups.total_count);

    // The default version at the service's root, another as a module.
    let token = tsw::Client::new(&shared)
        .describe_token()
        .namespace("default")
        .send()
        .await?;
    println!("tsw DescribeToken {}", token.request_id);
    let shell = {
        // Named as a one-version service's root is: the version's module has
        // the client, request types, error enums and `Error`.
        use tencentcloud::tsw::v20200924::{
            Client, DescribeAgentShellError, DescribeAgentShellRequest, Error,
        };
        let call = Client::new(&shared).call(DescribeAgentShellRequest::default());
        let sent: Result<_, Error<DescribeAgentShellError>> = call.send().await;
        sent?
    };
    println!("tsw DescribeAgentShell {}", shell.request_id);

    let info = ba::Client::new(&shared)
        .describe_get_auth_info()
        .send()
        .await?;
    println!("ba DescribeGetAuthInfo {}", info.request_id);

    // A required member left unset never leaves the process.
    match ba::Client::new(&shared).create_weapp_qr_url().send().await {
        Err(tencentcloud::Error::InvalidRequest(e)) => println!("refused locally: {e}"),
        other => return Err(format!("expected a local refusal, got {other:?}").into()),
    }

    // A curated service, through the same line.
    let identity = sts::Client::new(&shared).get_caller_identity().send().await?;
    println!("sts GetCallerIdentity {}", identity.request_id);
    Ok(())
}
