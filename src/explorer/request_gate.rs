//! Which HTTP requests the explorer serves at all, decided from the request's headers
//! before any work is done:
//!
//! - The `Host` header must name this explorer. A web page whose name an attacker
//!   re-points at 127.0.0.1 (DNS rebinding) reaches the node's port from the user's
//!   browser, but the browser still sends the page's own name as `Host`, so refusing
//!   names other than `localhost` closes that door. IP literals are safe (the browser's
//!   origin is then the address itself); only the addresses the explorer serves pass.
//! - A write (any method but GET, HEAD and OPTIONS) must come from the explorer's own
//!   origin: a page of another origin can make the user's browser send a POST (cross-site
//!   request forgery), and browsers say so in `Origin` and `Sec-Fetch-Site`.
//! - A write must declare a JSON body: a form or a `text/plain` body is exactly what
//!   another origin can send without asking the server first (a CORS preflight, which
//!   the explorer never grants).
//!
//! The decision is a plain function of the headers, so it is tested here without HTTP.

use std::net::{IpAddr, SocketAddr};

/// Why a request is not served: the HTTP status and the reason shown to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: String,
}

impl Refusal {
    fn new(status: u16, reason: impl Into<String>) -> Self {
        Refusal {
            status,
            reason: reason.into(),
        }
    }
}

/// The headers the gate reads, as the request carried them.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestHeaders<'a> {
    /// Whether the method changes something (POST, PUT, DELETE, PATCH, …).
    pub write: bool,
    pub host: Option<&'a str>,
    pub origin: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
    pub content_type: Option<&'a str>,
}

/// The explorer's gate for one listening address.
#[derive(Debug, Clone)]
pub struct RequestGate {
    served: SocketAddr,
}

impl RequestGate {
    /// The gate of an explorer bound to `served` (its actual address, port included).
    pub fn new(served: SocketAddr) -> Self {
        RequestGate { served }
    }

    /// Serves the request, or says why not.
    pub fn check(&self, headers: &RequestHeaders) -> Result<(), Refusal> {
        // HTTP/1.0 may omit Host; browsers never do, so no rebinding hides there.
        if let Some(host) = headers.host {
            self.check_authority(host).map_err(|why| {
                Refusal::new(
                    421,
                    format!(
                        "this explorer does not serve the host {:?}: {why}",
                        shown(host)
                    ),
                )
            })?;
        }
        if headers.write {
            self.check_write(headers)?;
        }
        Ok(())
    }

    fn check_write(&self, headers: &RequestHeaders) -> Result<(), Refusal> {
        let cross = |detail: String| {
            Refusal::new(
                403,
                format!("cross-origin writes are refused ({detail}); submit from the explorer's own page or a non-browser client"),
            )
        };
        if let Some(site) = headers.sec_fetch_site {
            let site = site.trim().to_ascii_lowercase();
            if site != "same-origin" && site != "none" {
                return Err(cross(format!("Sec-Fetch-Site: {}", shown(&site))));
            }
        }
        if let Some(origin) = headers.origin {
            let authority = origin
                .trim()
                .strip_prefix("http://")
                .filter(|rest| !rest.contains('/'))
                .ok_or_else(|| cross(format!("Origin: {}", shown(origin))))?;
            let same = match headers.host {
                Some(host) => authority.eq_ignore_ascii_case(host.trim()),
                None => self.check_authority(authority).is_ok(),
            };
            if !same {
                return Err(cross(format!("Origin: {}", shown(origin))));
            }
        }
        let json = headers.content_type.is_some_and(|value| {
            value
                .split(';')
                .next()
                .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
        });
        if !json {
            return Err(Refusal::new(
                415,
                format!(
                    "a write must be sent with Content-Type: application/json (got {})",
                    headers
                        .content_type
                        .map_or_else(|| "none".to_string(), |value| format!("{:?}", shown(value)))
                ),
            ));
        }
        Ok(())
    }

    /// Whether `authority` (`name[:port]`) names this explorer.
    fn check_authority(&self, authority: &str) -> Result<(), String> {
        let (name, port) = split_authority(authority.trim())
            .ok_or_else(|| "not a host name with an optional port".to_string())?;
        if let Some(port) = port {
            if port != self.served.port() {
                return Err(format!("it serves port {}", self.served.port()));
            }
        }
        let name = name.strip_suffix('.').unwrap_or(name);
        if name.eq_ignore_ascii_case("localhost") {
            return Ok(());
        }
        let served = self.served.ip();
        match name.parse::<IpAddr>() {
            Ok(ip) if ip.is_loopback() || ip == served || served.is_unspecified() => Ok(()),
            Ok(_) => Err(format!("it listens on {served}")),
            Err(_) => Err(
                "only localhost and the addresses it listens on are served (a foreign name \
                 pointing here is how DNS rebinding reaches a local node)"
                    .to_string(),
            ),
        }
    }
}

/// `name` and `port` of `host[:port]` or `[v6][:port]`.
fn split_authority(authority: &str) -> Option<(&str, Option<u16>)> {
    let (name, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        match after {
            "" => (inside, None),
            _ => (inside, Some(after.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        }
    };
    if name.is_empty() {
        return None;
    }
    let port = match port {
        Some(text) => Some(text.parse::<u16>().ok()?),
        None => None,
    };
    Some((name, port))
}

/// A header value as shown in a reason: a caller's text, cut to a readable length.
fn shown(text: &str) -> String {
    const SHOWN: usize = 100;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(served: &str) -> RequestGate {
        RequestGate::new(served.parse().unwrap())
    }

    fn read(host: &str) -> RequestHeaders<'_> {
        RequestHeaders {
            host: Some(host),
            ..RequestHeaders::default()
        }
    }

    fn write<'a>(host: &'a str, origin: Option<&'a str>, content: &'a str) -> RequestHeaders<'a> {
        RequestHeaders {
            write: true,
            host: Some(host),
            origin,
            content_type: Some(content),
            ..RequestHeaders::default()
        }
    }

    #[test]
    fn the_addresses_the_explorer_serves_pass() {
        let gate = gate("127.0.0.1:2111");
        for host in [
            "127.0.0.1:2111",
            "127.0.0.1",
            "localhost:2111",
            "LocalHost",
            "localhost.:2111",
            "[::1]:2111",
            "[::1]",
            "127.0.0.5:2111",
        ] {
            assert_eq!(gate.check(&read(host)), Ok(()), "{host}");
        }
        // No Host at all (HTTP/1.0): no browser sends that.
        assert_eq!(gate.check(&RequestHeaders::default()), Ok(()));
    }

    #[test]
    fn foreign_names_and_ports_are_refused_with_421() {
        let gate = gate("127.0.0.1:2111");
        for host in [
            "evil.example",
            "evil.example:2111",
            "localhost.evil.example",
            "127.0.0.1:9999",
            "10.1.2.3:2111",
            "x",
            "",
            ":2111",
            "[::1",
            "localhost:99999",
        ] {
            let refusal = gate.check(&read(host)).expect_err(host);
            assert_eq!(refusal.status, 421, "{host}");
            assert!(refusal.reason.contains("does not serve"), "{refusal:?}");
        }
    }

    #[test]
    fn the_configured_address_passes_and_an_unspecified_one_serves_every_ip() {
        assert_eq!(gate("10.0.0.7:8080").check(&read("10.0.0.7:8080")), Ok(()));
        assert!(gate("10.0.0.7:8080").check(&read("10.0.0.8:8080")).is_err());
        assert_eq!(
            gate("0.0.0.0:8080").check(&read("192.168.1.20:8080")),
            Ok(())
        );
        assert!(gate("0.0.0.0:8080").check(&read("nas.local:8080")).is_err());
    }

    #[test]
    fn cross_origin_writes_are_refused_with_403() {
        let gate = gate("127.0.0.1:2111");
        let json = "application/json";
        let evil = gate
            .check(&write("127.0.0.1:2111", Some("http://evil.example"), json))
            .unwrap_err();
        assert_eq!(evil.status, 403);
        assert!(evil.reason.contains("cross-origin"), "{evil:?}");
        for origin in [
            "null",
            "https://127.0.0.1:2111",
            "http://127.0.0.1:2112",
            "http://localhost:2111",
        ] {
            let refusal = gate
                .check(&write("127.0.0.1:2111", Some(origin), json))
                .expect_err(origin);
            assert_eq!(refusal.status, 403, "{origin}");
        }
        let fetched = RequestHeaders {
            sec_fetch_site: Some("cross-site"),
            ..write("127.0.0.1:2111", None, json)
        };
        assert_eq!(gate.check(&fetched).unwrap_err().status, 403);
        // The explorer's own page, and a client that is no browser.
        assert_eq!(
            gate.check(&write(
                "127.0.0.1:2111",
                Some("http://127.0.0.1:2111"),
                json
            )),
            Ok(())
        );
        let own = RequestHeaders {
            sec_fetch_site: Some("same-origin"),
            ..write("localhost:2111", Some("http://LOCALHOST:2111"), json)
        };
        assert_eq!(gate.check(&own), Ok(()));
        assert_eq!(gate.check(&write("127.0.0.1:2111", None, json)), Ok(()));
    }

    #[test]
    fn a_write_must_declare_json() {
        let gate = gate("127.0.0.1:2111");
        for content in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
        ] {
            let refusal = gate
                .check(&write("127.0.0.1:2111", None, content))
                .expect_err(content);
            assert_eq!(refusal.status, 415, "{content}");
        }
        let none = RequestHeaders {
            content_type: None,
            ..write("127.0.0.1:2111", None, "")
        };
        assert_eq!(gate.check(&none).unwrap_err().status, 415);
        assert_eq!(
            gate.check(&write(
                "127.0.0.1:2111",
                None,
                "Application/JSON; charset=utf-8"
            )),
            Ok(())
        );
        // Reads need no body type.
        assert_eq!(gate.check(&read("127.0.0.1:2111")), Ok(()));
    }

    #[test]
    fn reasons_show_at_most_a_hundred_characters_of_a_header() {
        let long = "a".repeat(10_000);
        let refusal = gate("127.0.0.1:2111").check(&read(&long)).unwrap_err();
        assert!(refusal.reason.len() < 400, "{}", refusal.reason.len());
    }
}
