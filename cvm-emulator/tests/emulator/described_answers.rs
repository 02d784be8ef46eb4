//! Every action the emulator keeps state for answers as its description
//! says: each answer is held against the action's output (see
//! `common::described`).

use crate::common::described::{assert_described, model};
use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn instance_answers_hold_to_the_description() {
    let (emu, ids) = seeded(config(), 2, "RUNNING").await;
    let cvm = model("cvm", "v20170312");
    let run = Call::post(
        "RunInstances",
        json!({"Placement": {"Zone": ZONE}, "ImageId": "img-pmqg1cw7", "InstanceCount": 1}),
    )
    .send(&emu)
    .await;
    assert_described(&cvm, "RunInstances", &run);
    for (action, body) in [
        ("DescribeInstances", json!({})),
        ("DescribeInstancesStatus", json!({})),
        ("StopInstances", json!({"InstanceIds": [ids[0]]})),
        ("StartInstances", json!({"InstanceIds": [ids[0]]})),
        ("RebootInstances", json!({"InstanceIds": [ids[1]]})),
        ("TerminateInstances", json!({"InstanceIds": [ids[1]]})),
    ] {
        let answer = Call::post(action, body).send(&emu).await;
        assert_eq!(code(&answer), "", "{action}: {answer}");
        assert_described(&cvm, action, &answer);
    }
}
