//! A scripted HTTP/1.1 server on 127.0.0.1 for the pipeline tests: it
//! answers a queue of steps (an answer, a slow answer, a reset), records
//! every request it read in full, verifies TC3 signatures, and can run its
//! clock ahead of ours to refuse stale timestamps as the gateway does.
//!
//! Hand-rolled on a `TcpListener` rather than axum so that a step can close
//! the socket without answering.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tencentcloud_runtime::{Endpoint, SecretKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The gateway's tolerance for `X-TC-Timestamp`.
const MAX_SKEW_SECS: i64 = 300;
/// Largest request head or body the server reads.
const MAX_REQUEST: usize = 1 << 20;

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Step {
    /// Answers `status` with `body` after `delay`.
    Answer {
        status: u16,
        body: String,
        delay: Duration,
        headers: Vec<(String, String)>,
    },
    /// Closes the connection without answering.
    Reset,
}

impl Step {
    pub fn ok(request_id: &str) -> Step {
        Step::json(
            200,
            &format!(r#"{{"Response":{{"Count":1,"RequestId":"{request_id}"}}}}"#),
        )
    }

    pub fn error(code: &str, request_id: &str) -> Step {
        Step::json(
            200,
            &format!(
                r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"scripted {code}"}},"RequestId":"{request_id}"}}}}"#
            ),
        )
    }

    pub fn json(status: u16, body: &str) -> Step {
        Step::Answer {
            status,
            body: body.to_owned(),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    pub fn html(status: u16) -> Step {
        Step::Answer {
            status,
            body: format!("<html><body>{status}</body></html>"),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    pub fn slow(delay: Duration, request_id: &str) -> Step {
        match Step::ok(request_id) {
            Step::Answer {
                status,
                body,
                headers,
                ..
            } => Step::Answer {
                status,
                body,
                delay,
                headers,
            },
            reset => reset,
        }
    }

    pub fn with_header(self, name: &str, value: &str) -> Step {
        match self {
            Step::Answer {
                status,
                body,
                delay,
                mut headers,
            } => {
                headers.push((name.to_owned(), value.to_owned()));
                Step::Answer {
                    status,
                    body,
                    delay,
                    headers,
                }
            }
            reset => reset,
        }
    }
}

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `Ok` when the TC3 signature verifies with the secret of its id.
    pub signature: Result<(), String>,
    /// What the server did: `refused` (stale timestamp) or the step's kind.
    pub outcome: &'static str,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

struct State {
    steps: Mutex<VecDeque<Step>>,
    /// Answered when the queue is empty.
    fallback: Step,
    seen: Mutex<Vec<Seen>>,
    keys: HashMap<String, String>,
    /// How far the server's clock is ahead of ours.
    ahead: Duration,
}

/// Serves on 127.0.0.1 until dropped.
pub struct Scripted {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct Builder {
    steps: Vec<Step>,
    fallback: Step,
    keys: HashMap<String, String>,
    ahead: Duration,
}

impl Scripted {
    /// A server verifying signatures made with (`secret_id`, `secret_key`).
    pub fn builder(secret_id: &str, secret_key: &str) -> Builder {
        Builder {
            steps: Vec::new(),
            fallback: Step::ok("fallback"),
            keys: HashMap::from([(secret_id.to_owned(), secret_key.to_owned())]),
            ahead: Duration::ZERO,
        }
    }

    /// Answers `steps` in order, then successes, to requests signed with
    /// (`secret_id`, `secret_key`).
    pub async fn start(secret_id: &str, secret_key: &str, steps: impl IntoIterator<Item = Step>) -> Scripted {
        Scripted::builder(secret_id, secret_key)
            .steps(steps)
            .start()
            .await
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint::custom(&format!("http://{}", self.addr)).expect("valid endpoint")
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.state.seen.lock().unwrap().len()
    }

    /// Every request seen was signed correctly.
    pub fn all_signed(&self) {
        for seen in self.seen() {
            assert_eq!(seen.signature, Ok(()), "{seen:#?}");
        }
    }

    pub fn steps_left(&self) -> usize {
        self.state.steps.lock().unwrap().len()
    }
}

impl Builder {
    pub fn steps(mut self, steps: impl IntoIterator<Item = Step>) -> Self {
        self.steps.extend(steps);
        self
    }

    pub fn fallback(mut self, step: Step) -> Self {
        self.fallback = step;
        self
    }

    pub fn key(mut self, id: &str, key: &str) -> Self {
        self.keys.insert(id.to_owned(), key.to_owned());
        self
    }

    pub fn clock_ahead(mut self, by: Duration) -> Self {
        self.ahead = by;
        self
    }

    pub async fn start(self) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        self.serve(listener)
    }

    /// Serves at `addr` (a port that was closed, say), or `None` when it
    /// cannot be bound.
    pub async fn start_at(self, addr: SocketAddr) -> Option<Scripted> {
        let listener = TcpListener::bind(addr).await.ok()?;
        Some(self.serve(listener))
    }

    fn serve(self, listener: TcpListener) -> Scripted {
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            steps: Mutex::new(self.steps.into()),
            fallback: self.fallback,
            seen: Mutex::new(Vec::new()),
            keys: self.keys,
            ahead: self.ahead,
        });
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let _ = socket.set_nodelay(true);
                tokio::spawn(serve(socket, shared.clone()));
            }
        });
        Scripted { addr, state, task }
    }
}

/// Requests on one connection, until it closes or a step resets it.
async fn serve(mut socket: TcpStream, state: Arc<State>) {
    let mut buffer = Vec::new();
    loop {
        let Some((head_len, headers, content_length)) = read_head(&mut socket, &mut buffer).await else {
            return;
        };
        while buffer.len() < head_len + content_length {
            let mut chunk = [0u8; 8192];
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buffer[head_len..head_len + content_length].to_vec();
        buffer.drain(..head_len + content_length);

        let server_now = SystemTime::now() + state.ahead;
        let server_secs = server_now.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        let timestamp = header(&headers, "x-tc-timestamp").and_then(|t| t.parse::<i64>().ok());
        let stale = !matches!(timestamp, Some(t) if (t - server_secs).abs() <= MAX_SKEW_SECS);
        let signature = verify(&headers, &body, &state.keys);
        let step = if stale {
            Step::error("AuthFailure.SignatureExpire", "req-expired")
        } else {
            state
                .steps
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| state.fallback.clone())
        };
        state.seen.lock().unwrap().push(Seen {
            at: Instant::now(),
            headers: headers.clone(),
            body,
            signature,
            outcome: match (&step, stale) {
                (_, true) => "refused",
                (Step::Reset, _) => "reset",
                (Step::Answer { .. }, _) => "answer",
            },
        });
        match step {
            Step::Reset => return,
            Step::Answer {
                status,
                body,
                delay,
                headers: extra,
            } => {
                tokio::time::sleep(delay).await;
                let mut head = format!(
                    "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                    body.len(),
                );
                // A step's own `Date` (a hostile one) replaces the server's.
                if !extra.iter().any(|(name, _)| name.eq_ignore_ascii_case("date")) {
                    head.push_str(&format!("Date: {}\r\n", httpdate::fmt_http_date(server_now)));
                }
                for (name, value) in extra {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                // One write: a head and body sent apart meet Nagle and
                // delayed ACKs (40 ms a request).
                head.push_str(&body);
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Reads up to the end of a request head; its length, headers and
/// `Content-Length`. `None` when the connection ends first.
async fn read_head(
    socket: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> Option<(usize, Vec<(String, String)>, usize)> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&buffer[..end]).into_owned();
            let mut lines = text.split("\r\n");
            lines.next()?; // request line
            let headers: Vec<(String, String)> = lines
                .filter_map(|line| line.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let length = header(&headers, "content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if length > MAX_REQUEST {
                return None;
            }
            return Some((end + 4, headers, length));
        }
        if buffer.len() > MAX_REQUEST {
            return None;
        }
        let mut chunk = [0u8; 8192];
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn verify(headers: &[(String, String)], body: &[u8], keys: &HashMap<String, String>) -> Result<(), String> {
    let authorization = header(headers, "authorization").ok_or("no Authorization header")?;
    let parsed = signer::parse_authorization(authorization).map_err(|e| e.to_string())?;
    let key = keys
        .get(&parsed.secret_id)
        .ok_or_else(|| format!("unknown secret id {}", parsed.secret_id))?;
    let timestamp: i64 = header(headers, "x-tc-timestamp")
        .ok_or("no X-TC-Timestamp")?
        .parse()
        .map_err(|_| "X-TC-Timestamp is not an integer")?;
    let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    signer::verify(
        &signer::ReceivedRequest {
            method: "POST",
            query: "",
            headers: &pairs,
            body,
            timestamp,
            authorization: &parsed,
        },
        &SecretKey::new(key.clone()),
    )
    .map_err(|e| e.to_string())
}
