//! tcloud against answers that expand enormously: 600 KB of `{}` in
//! `InstanceSet` cost it 1.2 GB (2.6 GB with `--output table`, every empty
//! item printed with each member `Instance` declares), and 6 MB made it
//! abort on allocation. Each run here is refused with the limit it broke,
//! and its peak resident set (`/usr/bin/time`'s, Linux) stays below 300 MB.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

const TIME: &str = "/usr/bin/time";
/// Far below what the unbounded decoding took, and above what a refused
/// run needs: the body, the decoded answer and the values counted.
const PEAK_ALLOWED_MIB: f64 = 300.0;

/// Serves `body` to every request on 127.0.0.1, one connection at a time.
fn serve(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let body = Arc::new(body);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut length = 0usize;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                line.clear();
            }
            let mut request = vec![0; length];
            if reader.read_exact(&mut request).is_err() {
                continue;
            }
            let mut stream = reader.into_inner();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    url
}

/// `count` items, `{}` each unless `item` says otherwise, in a
/// `DescribeInstances` answer.
fn answer(count: usize, item: &str) -> String {
    let mut items = format!("{item},").repeat(count);
    items.pop();
    format!(r#"{{"Response":{{"TotalCount":{count},"InstanceSet":[{items}],"RequestId":"req-expand"}}}}"#)
}

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
    peak_mib: f64,
}

/// `tcloud cvm DescribeInstances --output <output>` against `url`, under
/// `/usr/bin/time` for its peak resident set.
fn describe_instances(url: &str, output: &str, home: &Path) -> Run {
    let peak_file = home.join(format!("peak-{output}-{}", url.rsplit(':').next().unwrap_or("0")));
    let result = Command::new(TIME)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&peak_file)
        .arg(tcloud())
        .args(["cvm", "DescribeInstances", "--output", output])
        .env_clear()
        .env("HOME", home)
        .env("TENCENTCLOUD_SECRET_ID", "AKIDanswerLimits0000000000000000000")
        .env("TENCENTCLOUD_SECRET_KEY", "answer-limits-secret")
        .env("TENCENTCLOUD_REGION", "ap-guangzhou")
        .env("TENCENTCLOUD_ENDPOINT", url)
        .env("NO_PROXY", "127.0.0.1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{TIME} runs tcloud: {e}"));
    let peak_kib: f64 = std::fs::read_to_string(&peak_file)
        .ok()
        .and_then(|text| text.lines().last().and_then(|l| l.trim().parse().ok()))
        .unwrap_or_else(|| {
            panic!(
                "{TIME} wrote no peak: {}",
                String::from_utf8_lossy(&result.stderr)
            )
        });
    let stderr = String::from_utf8_lossy(&result.stderr);
    Run {
        success: result.status.success(),
        stdout: String::from_utf8_lossy(&result.stdout).into_owned(),
        // `/usr/bin/time` adds a line when the command fails.
        stderr: stderr
            .lines()
            .filter(|l| !l.starts_with("Command exited with"))
            .collect::<Vec<_>>()
            .join("\n"),
        peak_mib: peak_kib / 1024.0,
    }
}

fn tcloud() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tcloud"))
}

#[test]
fn floods_of_empty_instances_are_refused_naming_the_limit_within_bounded_memory() {
    let home = tempfile::tempdir().expect("a home");
    let mut peaks = Vec::new();
    // 600 KB: decodes (200 000 values), but printed as tccli prints it
    // every `{}` is each member `Instance` declares.
    let url = serve(answer(200_000, "{}"));
    for output in ["json", "table", "text"] {
        let run = describe_instances(&url, output, home.path());
        assert!(!run.success, "{output}: {}", run.stdout.len());
        assert_eq!(
            run.stderr,
            "cannot print the answer: the answer expands to more than 1000000 values (the limit `max_values`)",
            "{output}"
        );
        assert!(run.stdout.is_empty(), "{output}");
        peaks.push((format!("600 KB, --output {output}"), run.peak_mib));
    }
    // 6 MB: two million items, refused while decoding.
    let url = serve(answer(2_000_000, "{}"));
    for output in ["json", "table"] {
        let run = describe_instances(&url, output, home.path());
        assert!(!run.success, "{output}");
        // The item that broke the limit: the answer as a `Value` counts one
        // per item and member, a million in all.
        assert!(
            run.stderr.starts_with(
                "invalid response (HTTP 200): the `Response` object is too complex to decode: InstanceSet[999998]: \
                 the answer expands to more than 1000000 values (the limit `max_values`) (line 1, column"
            ),
            "{output}: {}",
            run.stderr
        );
        peaks.push((format!("6 MB, --output {output}"), run.peak_mib));
    }
    // Just within the limits: 10 000 empty items print (700 000 values).
    let url = serve(answer(10_000, "{}"));
    let run = describe_instances(&url, "table", home.path());
    assert!(run.success, "{}", run.stderr);
    assert!(run.stdout.lines().count() > 10_000);
    peaks.push((
        "30 KB of 10 000 items, --output table, printed".to_owned(),
        run.peak_mib,
    ));

    for (what, peak) in &peaks {
        eprintln!("{what}: peak resident set {peak:.0} MiB");
    }
    for (what, peak) in peaks {
        assert!(
            peak < PEAK_ALLOWED_MIB,
            "{what}: peak resident set {peak:.0} MiB, allowed {PEAK_ALLOWED_MIB} MiB"
        );
    }
}
