//! A user's program on the `tencentcloud` crate alone: three generated
//! services and a curated one from one shared client, configured from the
//! environment (`TENCENTCLOUD_ENDPOINT` points it at a local server). Prints
//! one line per call: `<service> <Action> <RequestId>`.

use tencentcloud::{autoscaling, ba, sts, tsw};

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
    let shell = tsw::v20200924::Client::new(&shared)
        .describe_agent_shell()
        .send()
        .await?;
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
