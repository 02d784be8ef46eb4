//! The examples, run as a user runs them: `--help`, and every error printed
//! as one inert line that says what failed and why.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

const EXAMPLES: [&str; 3] = ["start_instances", "describe_instances", "instance_lifecycle"];

/// `target/<profile>/examples/NAME`, built by `cargo test` beside this test.
fn example(name: &str) -> Command {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path: PathBuf = profile_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: `cargo build -p cvm-api --examples`",
        path.display()
    );
    let mut command = Command::new(path);
    command.env_clear();
    command
}

fn with_endpoint<'a>(command: &'a mut Command, endpoint: &str) -> &'a mut Command {
    command
        .env("TENCENTCLOUD_SECRET_ID", "AKIDexample0000000000")
        .env("TENCENTCLOUD_SECRET_KEY", "example-key")
        .env("TENCENTCLOUD_REGION", "ap-guangzhou")
        .env("TENCENTCLOUD_ENDPOINT", endpoint)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exactly one line, with no control characters but its newline.
fn assert_one_inert_line(output: &Output) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    let line = stderr
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("no newline: {stderr:?}"));
    assert!(!line.chars().any(char::is_control), "{line:?}");
    assert!(
        !line.contains("Service(") && !line.contains("ServiceError {"),
        "a Debug dump: {line}"
    );
    line.to_owned()
}

/// Answers every request on a loopback port with `body` (HTTP 200), for at
/// most `requests` connections; returns the endpoint URL.
fn fixed_server(body: &'static str, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(stream) = stream else { continue };
            let _ = answer(stream, body);
        }
    });
    format!("http://{addr}")
}

fn answer(stream: TcpStream, body: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    reader.take(length).read_to_end(&mut Vec::new())?;
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn help_is_printed_on_stdout_and_exits_zero() {
    for name in EXAMPLES {
        for flag in ["--help", "-h"] {
            let output = example(name).arg(flag).output().unwrap();
            assert_eq!(
                output.status.code(),
                Some(0),
                "{name} {flag}: {}",
                text(&output.stderr)
            );
            assert!(text(&output.stdout).contains("Usage:"), "{name} {flag}");
            assert!(
                output.stderr.is_empty(),
                "{name} {flag}: {}",
                text(&output.stderr)
            );
        }
        let output = example(name).arg("--no-such-flag").output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}: a usage error");
    }
}

#[test]
fn a_refused_connection_says_so() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    for args in [
        &["describe_instances"][..],
        &["start_instances", "ins-r8hr2upy"],
        &[
            "instance_lifecycle",
            "ap-guangzhou-3",
            "img-pmqg1cw7",
            "S5.MEDIUM2",
        ],
    ] {
        let output = with_endpoint(&mut example(args[0]), &endpoint)
            .args(&args[1..])
            .output()
            .unwrap();
        let line = assert_one_inert_line(&output);
        assert!(line.starts_with("error: cannot connect: "), "{}: {line}", args[0]);
        assert!(
            line.to_lowercase().contains("connection refused"),
            "{}: {line}",
            args[0]
        );
    }
}

/// Server text with ESC sequences and CR/LF cannot rewrite the terminal.
#[test]
fn control_characters_from_the_server_are_escaped() {
    const HOSTILE: &str = r#"{"Response":{"Error":{"Code":"InvalidInstanceId.NotFound\u001b[2J","Message":"gone\r\nRequestId: forged\u001b]0;owned\u0007"},"RequestId":"req-1"}}"#;
    let endpoint = fixed_server(HOSTILE, 3);
    for args in [
        &["describe_instances"][..],
        &["start_instances", "ins-r8hr2upy"],
        &[
            "instance_lifecycle",
            "ap-guangzhou-3",
            "img-pmqg1cw7",
            "S5.MEDIUM2",
        ],
    ] {
        let output = with_endpoint(&mut example(args[0]), &endpoint)
            .args(&args[1..])
            .output()
            .unwrap();
        let line = assert_one_inert_line(&output);
        assert!(
            line.contains(r"InvalidInstanceId.NotFound\u{1b}[2J: gone\r\nRequestId: forged\u{1b}]0;owned\u{7} (request id req-1)"),
            "{}: {line}",
            args[0]
        );
    }
}
