//! What the README tells a new user to do works as written.

mod common;

use std::time::Duration;

use common::{
    cargo, code_blocks, fenced_blocks, is_compiled_rust, profiles, root, run, section, target_dir,
    toml_string,
};

/// The README's samples that rustdoc would compile, with rustdoc's hidden
/// lines (`# `) shown, as a crate's programs: the first is `src/main.rs`,
/// the others examples (which may use dev-dependencies, as the testing
/// sample does). A sample without `fn main` gets an empty one.
fn samples_as_programs(readme: &str) -> Vec<(usize, String)> {
    fenced_blocks(readme)
        .into_iter()
        .filter(|b| b.info.starts_with("rust") && is_compiled_rust(b.info))
        .map(|b| {
            let shown: Vec<&str> = b
                .body
                .lines()
                .map(|l| match l.strip_prefix("# ") {
                    Some(rest) => rest,
                    None if l == "#" => "",
                    None => l,
                })
                .collect();
            let mut program = format!("// README.md line {}\n#![allow(dead_code, unused)]\n", b.line);
            program.push_str(&shown.join("\n"));
            if !program.contains("fn main(") {
                program.push_str("\n\nfn main() {}\n");
            }
            (b.line, program)
        })
        .collect()
}

/// A crate outside the workspace whose `Cargo.toml` is the README's snippet
/// alone (its `../cvm-sdk/` paths pointed at this checkout, as a user's
/// clone would be) and whose programs are every Rust sample of the README,
/// checked with cargo (and linted, under the test script's clippy-driver):
/// a dependency line or a feature missing from the snippet fails the build.
/// The snippet's commented further service names a crate of this checkout.
#[test]
fn readme_cargo_snippet_builds_the_readme_sample() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = section(&readme, "Calling CVM from Rust");
    let snippet = code_blocks(section)
        .into_iter()
        .find(|(info, _)| *info == "toml")
        .map(|(_, body)| body)
        .expect("README.md: `## Calling CVM from Rust` has no ```toml block");

    // `path = "../cvm-sdk/<dir>"`: the crate at `<dir>` of this checkout.
    let clone = "../cvm-sdk/";
    let local = |line: &str| -> String {
        match line.find(&format!("\"{clone}")) {
            Some(at) => {
                let rest = &line[at + 1 + clone.len()..];
                let dir = &rest[..rest.find('"').unwrap()];
                format!(
                    "{}{}{}",
                    &line[..at],
                    toml_string(&root.join(dir)),
                    &rest[dir.len() + 1..]
                )
            }
            None => line.to_string(),
        }
    };
    let mut further = 0;
    for line in snippet.lines() {
        let Some(commented) = line.trim_start().strip_prefix("# ") else {
            continue;
        };
        let Some((name, rest)) = commented.split_once(" = ") else {
            continue;
        };
        if let Some(at) = rest.find(clone) {
            let dir = &rest[at + clone.len()..];
            let dir = &dir[..dir.find('"').unwrap()];
            let manifest = std::fs::read_to_string(root.join(dir).join("Cargo.toml"))
                .unwrap_or_else(|e| panic!("README's snippet names {dir}: {e}"));
            assert!(
                manifest.contains(&format!("name = \"{}\"", name.trim())),
                "README's snippet: {dir} is not the crate {name}"
            );
            further += 1;
        }
    }
    assert_eq!(
        further, 1,
        "the snippet shows how to name a further service:\n{snippet}"
    );
    let dependencies: Vec<String> = snippet.lines().map(local).collect();
    assert!(
        dependencies.iter().all(|l| !l.contains(clone)),
        "{dependencies:?}"
    );

    let samples = samples_as_programs(&readme);
    assert!(samples.len() >= 7, "{} samples", samples.len());
    let manifest = format!(
        "[package]\nname = \"cvm-readme-sample\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         {}\n\n# A workspace of its own, not a member of the SDK's.\n[workspace]\n\n{}",
        dependencies.join("\n"),
        profiles(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap())
    );
    let dir = std::env::temp_dir().join(format!("cvm-readme-sample-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("examples")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), &manifest).unwrap();
    for (i, (line, program)) in samples.iter().enumerate() {
        let path = if i == 0 {
            dir.join("src/main.rs")
        } else {
            dir.join(format!("examples/readme_line_{line}.rs"))
        };
        std::fs::write(path, program).unwrap();
    }
    // The workspace's lock: the same versions, all already downloaded, so the
    // build needs no network and shares the workspace's compiled crates.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let out = run(
        cargo()
            // `check`: a missing dependency or feature is a compile error, and
            // a check needs no code generation for the snippet's own features.
            .args(["check", "--offline", "--bins", "--examples"])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", target_dir())
            .env_remove("CARGO_MANIFEST_DIR"),
        Duration::from_secs(900),
    );
    assert!(
        out.success,
        "the README's Cargo.toml snippet and samples do not build:\n--- Cargo.toml\n{manifest}\n--- cargo\n{}",
        out.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// CI (`.ci/run`) runs exactly the command the README gives as the test command.
#[test]
fn ci_runs_the_readme_test_command() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let commands: Vec<String> = code_blocks(section(&readme, "Start here"))
        .iter()
        .filter(|(info, _)| *info == "sh")
        .flat_map(|(_, body)| body.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|line| line.contains("scripts/test.sh"))
        .map(|line| line.split('#').next().unwrap_or("").trim().to_string())
        .collect();
    assert_eq!(
        commands.len(),
        1,
        "README's `## Start here` should give one test command: {commands:?}"
    );

    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let last = ci
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('#'))
        .expect(".ci/run has commands");
    assert_eq!(
        last,
        format!("exec {}", commands[0]),
        ".ci/run must end by running the README's test command"
    );
}

/// The test script's doc step leaves out the imported service crates
/// (`services/*-api`), which is only right while they have no doc test to
/// run: every code block in their sources is `ignore`d.
#[test]
fn the_doc_step_leaves_out_only_crates_without_doc_tests() {
    let root = root();
    let script = std::fs::read_to_string(root.join("scripts/test.sh")).unwrap();
    assert!(
        script.contains("for dir in services/*-api; do")
            && script.contains("--exclude \"$(basename \"$dir\")\""),
        "scripts/test.sh no longer leaves out services/*-api from the doc tests: update this test"
    );
    let mut runnable = Vec::new();
    let mut pending = vec![root.join("services")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_string_lossy();
                if dir != root.join("services") || name.ends_with("-api") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut open = false;
                for (i, line) in text.lines().enumerate() {
                    let Some(fence) = line
                        .trim_start()
                        .strip_prefix("///")
                        .or_else(|| line.trim_start().strip_prefix("//!"))
                    else {
                        continue;
                    };
                    let Some(info) = fence.trim().strip_prefix("```") else {
                        continue;
                    };
                    if !open && info != "ignore" && info != "text" {
                        runnable.push(format!("{}:{}", path.display(), i + 1));
                    }
                    open = !open;
                }
            }
        }
    }
    assert!(
        runnable.is_empty(),
        "doc blocks rustdoc would run, in crates the test script's doc step leaves out: {runnable:?}"
    );
}

/// A first run says what it downloads: the test script fetches the official
/// packages in a step of its own before the tests (which would fetch them
/// silently), and the fetch scripts name each download and extraction on
/// stderr, keeping stdout for the path. Checked without the network: the
/// pinned wheel, already cached, is extracted into a fresh cache.
#[test]
fn a_first_run_says_what_it_fetches() {
    let root = root();
    let script = std::fs::read_to_string(root.join("scripts/test.sh")).unwrap();
    let fetch = script
        .find("python3 scripts/fetch-tccli.py --all")
        .expect("scripts/test.sh fetches the descriptions");
    let tests = script
        .find("\nrun_tests\n")
        .expect("scripts/test.sh runs the tests");
    assert!(fetch < tests, "the fetch step comes before the tests");
    for fetched in ["fetch-sdk-errorcodes.py --all", "setup-venv.sh"] {
        assert!(script[..tests].contains(fetched), "{fetched} before the tests");
    }

    let cache = std::env::temp_dir().join(format!("xtask-fetch-progress-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    std::fs::create_dir_all(&cache).unwrap();
    // The wheel the tests already fetched (the first call downloads it).
    let mut first = std::process::Command::new("python3");
    first
        .arg(root.join("scripts/fetch-tccli.py"))
        .arg(target_dir().join("official"));
    assert!(run(&mut first, Duration::from_secs(300)).success);
    let wheel = "tccli-3.1.189.1-py2.py3-none-any.whl";
    std::fs::copy(target_dir().join("official").join(wheel), cache.join(wheel)).unwrap();

    let mut fetch = std::process::Command::new("python3");
    fetch
        .arg(root.join("scripts/fetch-tccli.py"))
        .arg("--all")
        .arg(&cache);
    let out = run(&mut fetch, Duration::from_secs(300));
    assert!(out.success, "{}", out.stderr);
    assert_eq!(
        out.stdout.trim(),
        cache.join("tccli-3.1.189.1-services").display().to_string()
    );
    assert!(
        out.stderr
            .starts_with("fetch-tccli: extracting every service's description into "),
        "{}",
        out.stderr
    );
    // Cached: nothing to say.
    let mut again = std::process::Command::new("python3");
    again
        .arg(root.join("scripts/fetch-tccli.py"))
        .arg("--all")
        .arg(&cache);
    let out = run(&mut again, Duration::from_secs(300));
    assert!(out.success && out.stderr.is_empty(), "{}", out.stderr);
    std::fs::remove_dir_all(&cache).unwrap();
}
