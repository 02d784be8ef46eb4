//! The error codes every Tencent Cloud service may return (Tencent's common
//! error codes), held once here for every generated service crate.

use std::fmt;

macro_rules! common_codes {
    ($($variant:ident = $code:literal, $doc:literal;)*) => {
        /// Codes any action of any service may return (authentication, rate
        /// limits, internal errors, ...). Every action's error has a
        /// `common_code()` that recognises them the same way, whichever
        /// variant carries the error.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum CommonErrorCode {
            $(#[doc = concat!("`", $code, "`: ", $doc)] $variant,)*
        }

        impl CommonErrorCode {
            /// Every common code, sorted by code.
            pub const ALL: &'static [CommonErrorCode] = &[$(CommonErrorCode::$variant),*];

            /// The code exactly as sent on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(CommonErrorCode::$variant => $code,)*
                }
            }

            /// A short English description.
            pub fn description(self) -> &'static str {
                match self {
                    $(CommonErrorCode::$variant => $doc,)*
                }
            }

            /// Recognises a wire code; `None` for codes that are not common.
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some(CommonErrorCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

common_codes! {
    ActionOffline = "ActionOffline", "The action has been taken offline.";
    AuthFailureInvalidAuthorization = "AuthFailure.InvalidAuthorization", "The Authorization header is malformed.";
    AuthFailureInvalidSecretId = "AuthFailure.InvalidSecretId", "The secret ID is invalid (not a cloud API key).";
    AuthFailureMfaFailure = "AuthFailure.MFAFailure", "Multi-factor authentication failed.";
    AuthFailureSecretIdNotFound = "AuthFailure.SecretIdNotFound", "The secret ID does not exist or is disabled.";
    AuthFailureSignatureExpire = "AuthFailure.SignatureExpire", "The request timestamp is too far from the server's clock.";
    AuthFailureSignatureFailure = "AuthFailure.SignatureFailure", "The signature does not match; check the secret key and the signing steps.";
    AuthFailureTokenFailure = "AuthFailure.TokenFailure", "The session token is invalid or expired.";
    AuthFailureUnauthorizedOperation = "AuthFailure.UnauthorizedOperation", "The caller is not authorized for this request.";
    DryRunOperation = "DryRunOperation", "The request would have succeeded; it was a dry run.";
    FailedOperation = "FailedOperation", "The operation failed.";
    InternalError = "InternalError", "The service hit an internal error.";
    InvalidAction = "InvalidAction", "The action does not exist.";
    InvalidParameter = "InvalidParameter", "A parameter is wrong (name, type or format).";
    InvalidParameterValue = "InvalidParameterValue", "A parameter value is not allowed.";
    InvalidRequest = "InvalidRequest", "The request body or its encoding is wrong.";
    IpInBlacklist = "IpInBlacklist", "The caller's IP address is on the block list.";
    IpNotInWhitelist = "IpNotInWhitelist", "The caller's IP address is not on the allow list.";
    LimitExceeded = "LimitExceeded", "A quota was exceeded.";
    MissingParameter = "MissingParameter", "A required parameter is missing.";
    NoSuchProduct = "NoSuchProduct", "The product does not exist.";
    NoSuchVersion = "NoSuchVersion", "The API version does not exist.";
    RequestLimitExceeded = "RequestLimitExceeded", "Too many requests; slow down.";
    RequestLimitExceededGlobalRegionUinLimitExceeded = "RequestLimitExceeded.GlobalRegionUinLimitExceeded", "Too many requests from this account across regions.";
    RequestLimitExceededIpLimitExceeded = "RequestLimitExceeded.IPLimitExceeded", "Too many requests from this IP address.";
    RequestLimitExceededUinLimitExceeded = "RequestLimitExceeded.UinLimitExceeded", "Too many requests from this account.";
    RequestSizeLimitExceeded = "RequestSizeLimitExceeded", "The request body is too large.";
    ResourceInUse = "ResourceInUse", "The resource is in use.";
    ResourceInsufficient = "ResourceInsufficient", "Not enough resources are available.";
    ResourceNotFound = "ResourceNotFound", "The resource does not exist.";
    ResourceUnavailable = "ResourceUnavailable", "The resource is unavailable.";
    ResponseSizeLimitExceeded = "ResponseSizeLimitExceeded", "The response would be too large.";
    ServiceUnavailable = "ServiceUnavailable", "The service is temporarily unavailable.";
    UnauthorizedOperation = "UnauthorizedOperation", "The caller is not authorized for this operation.";
    UnknownParameter = "UnknownParameter", "The request has a parameter the action does not define.";
    UnsupportedOperation = "UnsupportedOperation", "The operation is not supported.";
    UnsupportedProtocol = "UnsupportedProtocol", "The HTTP method or protocol is not supported.";
    UnsupportedRegion = "UnsupportedRegion", "The action is not available in this region.";
}

impl fmt::Display for CommonErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_sorted() {
        for code in CommonErrorCode::ALL {
            assert_eq!(CommonErrorCode::from_code(code.as_str()), Some(*code));
            assert!(!code.description().is_empty());
        }
        let names: Vec<&str> = CommonErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert_eq!(CommonErrorCode::from_code("InvalidInstanceId.NotFound"), None);
        assert_eq!(
            CommonErrorCode::RequestLimitExceeded.to_string(),
            "RequestLimitExceeded"
        );
    }
}
