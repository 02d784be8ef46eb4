//! A `ClientToken` member the service has deprecated (ess's `StartFlow`,
//! found by `cargo xtask services --compile`): the generated accessor must not
//! trip `#![deny(warnings)]`.

fn api(disabled: bool) -> String {
    format!(
        r#"{{
  "actions": {{ "StartFlow": {{ "document": "", "input": "StartFlowRequest", "name": "Start", "output": "StartFlowResponse", "status": "online" }} }},
  "metadata": {{ "apiVersion": "2020-11-11", "serviceShortName": "ess" }},
  "objects": {{
    "StartFlowRequest": {{ "document": "", "type": "object", "members": [
      {{ "disabled": {disabled}, "document": "", "member": "string", "name": "ClientToken", "required": false, "type": "string" }} ]}},
    "StartFlowResponse": {{ "document": "", "type": "object", "members": [
      {{ "document": "", "member": "string", "name": "RequestId", "type": "string" }} ]}}
  }},
  "version": "1.0"
}}"#
    )
}

fn client_rs(disabled: bool) -> String {
    let model = codegen::model_from_sources(
        &api(disabled),
        r#"{ "codes": {}, "common": [], "actions": {} }"#,
        r#"{ "objects": {} }"#,
    )
    .expect("the description builds");
    let files = codegen::generate(&model, "spec/ess/v20201111").expect("generates");
    files
        .into_iter()
        .find(|f| f.name.ends_with("client.rs"))
        .expect("a client.rs")
        .contents
}

#[test]
fn a_deprecated_client_token_is_read_with_deprecation_allowed() {
    let allowed = "#[allow(deprecated)]\n    fn client_token(&self)";
    assert!(client_rs(true).contains(allowed), "{}", client_rs(true));
    assert!(!client_rs(false).contains(allowed));
}
