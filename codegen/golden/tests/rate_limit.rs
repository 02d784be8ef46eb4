//! The generated `Action` impls carry the spec's documented rate limit, and
//! an action without one keeps the runtime's default.

use codegen_golden::fleet::types::{DescribeInstancesRequest, StartInstancesRequest};
use tencentcloud_runtime::Action;

#[test]
fn rate_limit_is_the_specs_or_none() {
    assert_eq!(StartInstancesRequest::RATE_LIMIT, Some(10));
    assert_eq!(DescribeInstancesRequest::RATE_LIMIT, None);
}
