//! Reading request headers the way the gateway does.

use hyper::http::request::Parts;

/// The one value of header `name`: `Ok(None)` when absent, `Err(())` when
/// repeated or not visible ASCII.
pub(crate) fn single_header<'a>(parts: &'a Parts, name: &str) -> Result<Option<&'a str>, ()> {
    let mut values = parts.headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(());
    }
    first.to_str().map(Some).map_err(|_| ())
}
