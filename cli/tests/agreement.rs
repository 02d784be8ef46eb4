//! One request, one verdict: the SDK's local check (the generated
//! `Validate`), `tcloud`'s check before sending (the model's walk) and the
//! emulator's gateway agree on every invalid request, with the same code,
//! path and words.
//!
//! The requests are made from the descriptions of CVM and VPC: for each of a
//! set of actions (those the emulator does not emulate, whose answer is the
//! gateway's alone), the request's empty value, a filled one, and that one
//! with each required member emptied or left out, each rule broken, each
//! member of the wrong type and an unknown member. Requests the typed SDK
//! can hold are judged three ways (at least 200 of them); the others (a
//! wrong type, an unknown member) two ways, `tcloud` against the gateway.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tencentcloud_cli::catalog::Catalog;
use tencentcloud_model::model::{Leaf, Member, Model, Object, Scalar};
use tencentcloud_model::samples::{filled, sample};
use tencentcloud_model::validate::gateway_choice;
use tencentcloud_model::{Validate, Violation};
use tencentcloud_runtime::{CallOptions, Client, Error};

/// The typed SDK's side of one action.
#[derive(Clone, Copy)]
struct Sdk {
    /// What the generated `Validate` says of a request: `None` when the
    /// typed request cannot hold it (serde refuses it).
    check: fn(&Value) -> Option<Vec<Violation>>,
    /// The typed request's empty value, as sent: what a program that sets
    /// nothing sends.
    default: fn() -> Value,
}

fn check<T: serde::de::DeserializeOwned + Validate>(params: &Value) -> Option<Vec<Violation>> {
    let request: T = serde_json::from_value(params.clone()).ok()?;
    Some(request.check().err().map_or_else(Vec::new, |e| e.violations))
}

fn default<T: Default + serde::Serialize>() -> Value {
    serde_json::to_value(T::default()).unwrap()
}

macro_rules! checks {
    ($krate:ident: $($action:ident => $req:ident,)*) => {
        BTreeMap::from([$((
            stringify!($action),
            Sdk {
                check: check::<$krate::types::$req>,
                default: default::<$krate::types::$req>,
            },
        ),)*])
    };
}

fn cvm_checks() -> BTreeMap<&'static str, Sdk> {
    checks! { cvm_api:
        AssociateInstancesKeyPairs => AssociateInstancesKeyPairsRequest,
        AssociateSecurityGroups => AssociateSecurityGroupsRequest,
        ConfigureChcAssistVpc => ConfigureChcAssistVpcRequest,
        ConfigureChcDeployVpc => ConfigureChcDeployVpcRequest,
        CreateDisasterRecoverGroup => CreateDisasterRecoverGroupRequest,
        CreateHpcCluster => CreateHpcClusterRequest,
        CreateKeyPair => CreateKeyPairRequest,
        CreateLaunchTemplate => CreateLaunchTemplateRequest,
        CreateLaunchTemplateVersion => CreateLaunchTemplateVersionRequest,
        DeleteInstancesDisasterRecoverGroups => DeleteInstancesDisasterRecoverGroupsRequest,
        DeleteLaunchTemplateVersions => DeleteLaunchTemplateVersionsRequest,
        DescribeChcHosts => DescribeChcHostsRequest,
        DescribeDisasterRecoverGroups => DescribeDisasterRecoverGroupsRequest,
        DescribeHosts => DescribeHostsRequest,
        DescribeImages => DescribeImagesRequest,
        DescribeInstancesAttributes => DescribeInstancesAttributesRequest,
        DescribeInstancesOperationLimit => DescribeInstancesOperationLimitRequest,
        DescribeKeyPairs => DescribeKeyPairsRequest,
        DescribeLaunchTemplateVersions => DescribeLaunchTemplateVersionsRequest,
        DescribeLaunchTemplates => DescribeLaunchTemplatesRequest,
        DescribeResourcePoolPacks => DescribeResourcePoolPacksRequest,
        DescribeTaskInfo => DescribeTaskInfoRequest,
        DisassociateInstancesKeyPairs => DisassociateInstancesKeyPairsRequest,
        DisassociateSecurityGroups => DisassociateSecurityGroupsRequest,
        EnterRescueMode => EnterRescueModeRequest,
        ImportImage => ImportImageRequest,
        ImportInstancesActionTimer => ImportInstancesActionTimerRequest,
        ImportKeyPair => ImportKeyPairRequest,
        InquirePricePurchaseResourcePoolPacks => InquirePricePurchaseResourcePoolPacksRequest,
        InquiryPriceModifyInstancesChargeType => InquiryPriceModifyInstancesChargeTypeRequest,
        InquiryPriceRenewHosts => InquiryPriceRenewHostsRequest,
        InquiryPriceRenewInstances => InquiryPriceRenewInstancesRequest,
        InquiryPriceResetInstancesInternetMaxBandwidth => InquiryPriceResetInstancesInternetMaxBandwidthRequest,
        InquiryPriceResetInstancesType => InquiryPriceResetInstancesTypeRequest,
        InquiryPriceRunInstances => InquiryPriceRunInstancesRequest,
        ModifyChcNetworkMode => ModifyChcNetworkModeRequest,
    }
}

fn vpc_checks() -> BTreeMap<&'static str, Sdk> {
    checks! { vpc_api:
        AcceptAttachCcnInstances => AcceptAttachCcnInstancesRequest,
        AddIp6Rules => AddIp6RulesRequest,
        AddTemplateMember => AddTemplateMemberRequest,
        AssignIpv6SubnetCidrBlock => AssignIpv6SubnetCidrBlockRequest,
        AssociateDhcpIpWithAddressIp => AssociateDhcpIpWithAddressIpRequest,
        AssociateDirectConnectGatewayNatGateway => AssociateDirectConnectGatewayNatGatewayRequest,
        AssociateInstancesToCcnRouteTable => AssociateInstancesToCcnRouteTableRequest,
        AssociateNetworkAclSubnets => AssociateNetworkAclSubnetsRequest,
        AssociateNetworkInterfaceSecurityGroups => AssociateNetworkInterfaceSecurityGroupsRequest,
        AttachCcnInstances => AttachCcnInstancesRequest,
        AttachClassicLinkVpc => AttachClassicLinkVpcRequest,
        AttachNetworkInterface => AttachNetworkInterfaceRequest,
        AttachSnapshotInstances => AttachSnapshotInstancesRequest,
        AuditCrossBorderCompliance => AuditCrossBorderComplianceRequest,
        CreateAddressTemplateGroup => CreateAddressTemplateGroupRequest,
        CreateAndAttachNetworkInterface => CreateAndAttachNetworkInterfaceRequest,
        CreateAssistantCidr => CreateAssistantCidrRequest,
        CreateCcnPolicyBasedRoutingNextHop => CreateCcnPolicyBasedRoutingNextHopRequest,
        CreateCustomerGateway => CreateCustomerGatewayRequest,
        CreateDhcpIp => CreateDhcpIpRequest,
        CreateDirectConnectGateway => CreateDirectConnectGatewayRequest,
        CreateDirectConnectGatewayCcnRoutes => CreateDirectConnectGatewayCcnRoutesRequest,
        CreateFlowLog => CreateFlowLogRequest,
        CreateGlobalRoutes => CreateGlobalRoutesRequest,
        CreateHaVip => CreateHaVipRequest,
        CreateHighPriorityRouteTable => CreateHighPriorityRouteTableRequest,
        CreateHighPriorityRoutes => CreateHighPriorityRoutesRequest,
        CreateLocalGateway => CreateLocalGatewayRequest,
        CreateNatGateway => CreateNatGatewayRequest,
        CreateNatGatewayDestinationIpPortTranslationNatRule => CreateNatGatewayDestinationIpPortTranslationNatRuleRequest,
    }
}

/// The empty value of a member: what a required member must not be.
fn empty(m: &Member) -> Option<Value> {
    match (&m.ty.leaf, m.ty.list) {
        (_, true) => Some(json!([])),
        (Leaf::Scalar(Scalar::String | Scalar::Date | Scalar::DateTime | Scalar::DateTimeIso), false) => {
            Some(json!(""))
        }
        _ => None,
    }
}

/// A value of the wrong type for `m`.
fn wrong_type(m: &Member) -> Value {
    match (&m.ty.leaf, m.ty.list) {
        (_, true) => json!({"not": "a list"}),
        (Leaf::Scalar(Scalar::I64 | Scalar::U64 | Scalar::F64), false) => json!("many"),
        (Leaf::Scalar(Scalar::Bool), false) => json!("perhaps"),
        (Leaf::Scalar(_), false) => json!([1]),
        (Leaf::Object(_), false) => json!(7),
    }
}

/// The requests made for one action.
fn requests(model: &Model, default: Value, input: &Object) -> Vec<Value> {
    let base = filled(model, input);
    let with = |member: &str, value: Value| {
        let mut request = base.clone();
        request[member] = value;
        request
    };
    let mut out = vec![default, base.clone()];
    for m in &input.members {
        if m.required {
            if let Some(value) = empty(m) {
                out.push(with(&m.wire_name, value));
            }
            let mut without = base.clone();
            without.as_object_mut().unwrap().remove(&m.wire_name);
            out.push(without);
        }
        if let Some(rule) = &m.rule {
            if rule.pattern.is_some() {
                let value = if m.ty.list {
                    json!(["!bad", "also bad"])
                } else {
                    json!("!bad")
                };
                out.push(with(&m.wire_name, value));
            }
            if let Some(max) = rule.max_items {
                out.push(with(
                    &m.wire_name,
                    Value::Array(vec![sample(model, m)[0].clone(); max + 1]),
                ));
            }
            if rule.min_items.is_some_and(|min| min > 0) {
                out.push(with(&m.wire_name, json!([])));
            }
            if let Some(max) = rule.maximum {
                out.push(with(&m.wire_name, json!(max + 1)));
            }
            if let Some(min) = rule.minimum {
                out.push(with(&m.wire_name, json!(min - 1)));
            }
        }
        out.push(with(&m.wire_name, wrong_type(m)));
        // One object down: each required member of a nested object emptied.
        if let (Leaf::Object(name), Some(value)) = (&m.ty.leaf, base.get(&m.wire_name)) {
            let inner = model.object(name).unwrap();
            for n in inner.members.iter().filter(|n| n.required) {
                let Some(empty) = empty(n) else { continue };
                let mut value = value.clone();
                let object = if m.ty.list { &mut value[0] } else { &mut value };
                object[&n.wire_name] = empty;
                out.push(with(&m.wire_name, value));
            }
        }
    }
    out.push(with("NoSuchMember", json!(1)));
    out
}

struct Tally {
    three_way: usize,
    two_way: usize,
    services: BTreeMap<&'static str, usize>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_tcloud_and_the_gateway_agree_on_every_invalid_request() {
    let config = cvm_emulator::EmulatorConfig::default().with_rate_limit(None);
    let emulator = cvm_emulator::Emulator::start(config, "127.0.0.1:0")
        .await
        .unwrap();
    let client = Client::new(emulator.client_config("ap-guangzhou").unwrap()).unwrap();
    let catalog = Catalog::embedded().unwrap();
    let mut tally = Tally {
        three_way: 0,
        two_way: 0,
        services: BTreeMap::new(),
    };
    for (service, version, checks) in [
        ("cvm", "2017-03-12", cvm_checks()),
        ("vpc", "2017-03-12", vpc_checks()),
    ] {
        for (action, sdk) in checks {
            // tcloud's model of the action, as a command loads it.
            let loaded = catalog.load_action(service, None, action).unwrap();
            let model = &loaded.model;
            let input = tencentcloud_model::check::input_of(model, action).unwrap();
            for request in requests(model, (sdk.default)(), input) {
                let by_tcloud = tencentcloud_cli::params::violations(model, input, &request);
                let Some(chosen) = gateway_choice(&by_tcloud) else {
                    continue; // a valid request: nothing to agree on
                };
                let decodes = tencentcloud_model::check::decode_violations(model, input, &request).is_empty();
                if decodes {
                    // The typed request holds it: the generated `Validate`
                    // must say exactly what tcloud says, in the same order.
                    let by_sdk = (sdk.check)(&request)
                        .unwrap_or_else(|| panic!("{service} {action} {request}: the SDK cannot hold it"));
                    assert_eq!(by_sdk, by_tcloud, "{service} {action} {request}: SDK and tcloud");
                    tally.three_way += 1;
                } else {
                    // A wrong type or a missing member serde refuses; an
                    // unknown member it ignores: beyond the typed SDK.
                    tally.two_way += 1;
                }
                let answer: Result<Value, _> = client
                    .call_with(service, version, action, &request, &CallOptions::new())
                    .await;
                match answer {
                    Err(Error::Service(e)) => {
                        assert_eq!(
                            (e.code(), e.message()),
                            (chosen.gateway_code(), chosen.gateway_message().as_str()),
                            "{service} {action} {request}: gateway"
                        );
                    }
                    other => panic!("{service} {action} {request}: the gateway answered {other:?}"),
                }
                *tally.services.entry(service).or_default() += 1;
            }
        }
    }
    eprintln!(
        "{} requests judged three ways, {} two ways: {:?}",
        tally.three_way, tally.two_way, tally.services
    );
    assert!(tally.three_way >= 200, "{}", tally.three_way);
    assert!(
        tally.services.len() >= 2 && tally.services.values().all(|&n| n >= 50),
        "{:?}",
        tally.services
    );
}

#[test]
fn a_violation_reads_the_same_everywhere() {
    // tcloud names the parameter as it is typed; the words after it are the engine's.
    let catalog = Catalog::embedded().unwrap();
    let loaded = catalog.load_action("cvm", None, "DescribeImages").unwrap();
    let input = tencentcloud_model::check::input_of(&loaded.model, "DescribeImages").unwrap();
    let violations = tencentcloud_cli::params::violations(&loaded.model, input, &json!({"Limit": 101}));
    let chosen = gateway_choice(&violations).unwrap();
    assert_eq!(chosen.gateway_code(), "InvalidParameterValue");
    assert_eq!(chosen.to_string(), "Limit is 101; must be at most 100");
    assert_eq!(
        chosen.gateway_message(),
        "The parameter `Limit` is 101; must be at most 100."
    );
}
