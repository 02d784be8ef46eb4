//! Key pairs with the service's rules: made or imported, listed with the
//! instances that use them, bound to STOPPED instances, refused deletion
//! while in use; kept in the state file.

use crate::common::described::{assert_described, model};
use crate::common::*;
use serde_json::{json, Value};

async fn ok(emu: &cvm_emulator::RunningEmulator, action: &str, body: Value) -> Value {
    let answer = Call::post(action, body.clone()).send(emu).await;
    assert_eq!(code(&answer), "", "{action} {body}: {answer}");
    assert_described(&model("cvm", "v20170312"), action, &answer);
    answer
}

async fn refused(emu: &cvm_emulator::RunningEmulator, action: &str, body: Value) -> String {
    let answer = Call::post(action, body.clone()).send(emu).await;
    assert_ne!(code(&answer), "", "{action} {body} succeeded: {answer}");
    code(&answer)
}

/// An OpenSSH ed25519 public key (a fixed, made-up key).
const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGh5cG90aGV0aWNhbC1rZXktZm9yLXRoZS10ZXN0cyEh me@laptop";

#[tokio::test]
async fn key_pairs_follow_the_services_rules() {
    let (emu, ids) = seeded(config(), 2, "STOPPED").await;
    let made = ok(
        &emu,
        "CreateKeyPair",
        json!({"KeyName": "deploy", "ProjectId": 0}),
    )
    .await;
    let deploy = made["KeyPair"]["KeyId"].as_str().unwrap().to_owned();
    assert!(made["KeyPair"]["PrivateKey"]
        .as_str()
        .unwrap()
        .contains("PRIVATE KEY"));
    assert!(made["KeyPair"]["PublicKey"]
        .as_str()
        .unwrap()
        .starts_with("ssh-ed25519 "));
    let imported = ok(
        &emu,
        "ImportKeyPair",
        json!({"KeyName": "laptop", "ProjectId": 0, "PublicKey": PUBLIC_KEY,
               "TagSpecification": [{"ResourceType": "keypair", "Tags": [{"Key": "team", "Value": "infra"}]}]}),
    )
    .await;
    let laptop = imported["KeyId"].as_str().unwrap().to_owned();

    // Names are unique per region; the same public key is imported once.
    assert_eq!(
        refused(
            &emu,
            "CreateKeyPair",
            json!({"KeyName": "deploy", "ProjectId": 0})
        )
        .await,
        "InvalidKeyPairName.Duplicate"
    );
    assert_eq!(
        refused(
            &emu,
            "ImportKeyPair",
            json!({"KeyName": "again", "ProjectId": 0, "PublicKey": PUBLIC_KEY})
        )
        .await,
        "InvalidPublicKey.Duplicate"
    );
    assert_eq!(
        refused(
            &emu,
            "ImportKeyPair",
            json!({"KeyName": "bad", "ProjectId": 0, "PublicKey": "ssh-rsa !!"})
        )
        .await,
        "InvalidPublicKey.Malformed"
    );
    // Another region sees none of them.
    let mut elsewhere = Call::post("DescribeKeyPairs", json!({}));
    elsewhere.region = Some("ap-shanghai".into());
    assert_eq!(elsewhere.send(&emu).await["TotalCount"], 0);

    // Listed, filtered by tag, never with the private key.
    let all = ok(&emu, "DescribeKeyPairs", json!({})).await;
    assert_eq!(all["TotalCount"], 2, "{all}");
    assert!(all["KeyPairSet"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k.get("PrivateKey").is_none()));
    let tagged = ok(
        &emu,
        "DescribeKeyPairs",
        json!({"Filters": [{"Name": "tag:team", "Values": ["infra"]}]}),
    )
    .await;
    assert_eq!(tagged["KeyPairSet"][0]["KeyId"], laptop.as_str(), "{tagged}");

    // Bound to stopped instances; a running one needs ForceStop.
    ok(
        &emu,
        "AssociateInstancesKeyPairs",
        json!({"InstanceIds": [ids[0]], "KeyIds": [deploy]}),
    )
    .await;
    ok(&emu, "StartInstances", json!({"InstanceIds": [ids[1]]})).await;
    assert_eq!(
        refused(
            &emu,
            "AssociateInstancesKeyPairs",
            json!({"InstanceIds": [ids[1]], "KeyIds": [laptop]})
        )
        .await,
        "UnsupportedOperation.InstanceStateRunning"
    );
    ok(
        &emu,
        "AssociateInstancesKeyPairs",
        json!({"InstanceIds": [ids[1]], "KeyIds": [laptop], "ForceStop": true}),
    )
    .await;
    let second = ok(&emu, "DescribeInstances", json!({"InstanceIds": [ids[1]]})).await;
    assert_eq!(second["InstanceSet"][0]["InstanceState"], "STOPPED");
    assert_eq!(
        second["InstanceSet"][0]["LoginSettings"]["KeyIds"],
        json!([laptop])
    );

    // RunInstances takes keys of the region, and the listing says who uses them.
    let run = ok(
        &emu,
        "RunInstances",
        json!({"Placement": {"Zone": ZONE}, "ImageId": "img-487zeit5", "LoginSettings": {"KeyIds": [deploy]}}),
    )
    .await;
    let launched = run["InstanceIdSet"][0].as_str().unwrap().to_owned();
    assert_eq!(
        refused(
            &emu,
            "RunInstances",
            json!({"Placement": {"Zone": ZONE}, "ImageId": "img-487zeit5", "LoginSettings": {"KeyIds": ["skey-00000000"]}}),
        )
        .await,
        "InvalidParameterValue.KeyPairNotFound"
    );
    assert_eq!(
        refused(
            &emu,
            "RunInstances",
            json!({"Placement": {"Zone": ZONE}, "ImageId": "img-22trbn9x", "LoginSettings": {"KeyIds": [deploy]}}),
        )
        .await,
        "UnsupportedOperation.KeyPairUnsupportedWindows"
    );
    let listed = ok(&emu, "DescribeKeyPairs", json!({"KeyIds": [deploy]})).await;
    assert_eq!(
        listed["KeyPairSet"][0]["AssociatedInstanceIds"],
        json!([ids[0], launched]),
        "{listed}"
    );

    // A key in use is not deleted, nor any key of the same request.
    assert_eq!(
        refused(&emu, "DeleteKeyPairs", json!({"KeyIds": [laptop, deploy]})).await,
        "InvalidParameterValue.KeyPairNotSupported"
    );
    assert_eq!(ok(&emu, "DescribeKeyPairs", json!({})).await["TotalCount"], 2);
    ok(
        &emu,
        "DisassociateInstancesKeyPairs",
        json!({"InstanceIds": [ids[1]], "KeyIds": [laptop]}),
    )
    .await;
    ok(&emu, "DeleteKeyPairs", json!({"KeyIds": [laptop]})).await;
    assert_eq!(
        refused(&emu, "DeleteKeyPairs", json!({"KeyIds": [laptop]})).await,
        "InvalidKeyPairId.NotFound"
    );
    assert_eq!(
        refused(&emu, "DeleteKeyPairs", json!({"KeyIds": ["key-1"]})).await,
        "InvalidKeyPairId.Malformed"
    );
    // Terminating its users frees a key.
    ok(
        &emu,
        "TerminateInstances",
        json!({"InstanceIds": [ids[0], launched]}),
    )
    .await;
    ok(&emu, "DeleteKeyPairs", json!({"KeyIds": [deploy]})).await;
    assert_eq!(ok(&emu, "DescribeKeyPairs", json!({})).await["TotalCount"], 0);
}

/// An emulator on `path` once the dropped one has let go of its lock (it
/// stops in the background): bounded, 10 s.
async fn restart(path: &std::path::Path) -> cvm_emulator::RunningEmulator {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match cvm_emulator::Emulator::start(config().with_state_file(path), "127.0.0.1:0").await {
            Ok(emu) => return emu,
            Err(e)
                if e.to_string().contains("in use by another emulator")
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn key_pairs_are_kept_in_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let emu = start(config().with_state_file(&path)).await;
    let made = ok(&emu, "CreateKeyPair", json!({"KeyName": "kept", "ProjectId": 0})).await;
    let kept = made["KeyPair"]["KeyId"].as_str().unwrap().to_owned();
    ok(&emu, "CreateKeyPair", json!({"KeyName": "gone", "ProjectId": 0})).await;
    let gone = ok(
        &emu,
        "DescribeKeyPairs",
        json!({"Filters": [{"Name": "key-name", "Values": ["gone"]}]}),
    )
    .await;
    let gone = gone["KeyPairSet"][0]["KeyId"].as_str().unwrap().to_owned();
    ok(&emu, "DeleteKeyPairs", json!({"KeyIds": [gone]})).await;
    let before = ok(&emu, "DescribeKeyPairs", json!({})).await["KeyPairSet"].clone();
    // From the journal (no shutdown: the state file was never rewritten)...
    drop(emu);
    let again = restart(&path).await;
    let after = ok(&again, "DescribeKeyPairs", json!({})).await["KeyPairSet"].clone();
    assert_eq!(after, before);
    assert_eq!(after[0]["KeyId"], kept.as_str());
    // ...and from the state file it folded them into.
    again.shutdown().await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&kept) && !text.contains(&gone), "{text}");
    let third = start(config().with_state_file(&path)).await;
    assert_eq!(
        ok(&third, "DescribeKeyPairs", json!({})).await["KeyPairSet"],
        before
    );
}
