//! `cargo xtask import --service X` reads the descriptions the SDK ships,
//! and writes the very code the `tencentcloud` crate's build generates for
//! X: the same model and emitter, the build's one module holding the same
//! items as import's files.

mod common;

use std::path::{Path, PathBuf};

use common::copy_tree;

use quote::ToTokens;
use tencentcloud_descriptions as bundle;
use xtask::service::{import_services, ServiceOptions};

/// A checkout with only what import reads: the bundle and empty `spec/`.
fn scratch_root(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("xtask-import-service-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let checkout = xtask::regen::workspace_root().unwrap();
    std::fs::create_dir_all(root.join("descriptions")).unwrap();
    std::fs::create_dir_all(root.join("spec")).unwrap();
    std::fs::copy(
        checkout.join(bundle::OFFICIAL_PATH),
        root.join(bundle::OFFICIAL_PATH),
    )
    .unwrap();
    root
}

fn tokens(item: &impl ToTokens) -> String {
    item.to_token_stream().to_string()
}

/// An item as prettyplease prints it alone: the same text for the same
/// item at any depth (where it was printed nested, line width changed where
/// lines broke, hence trailing commas).
fn printed(item: &syn::Item) -> String {
    prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: vec![item.clone()],
    })
}

/// The build's module for one version, from the checkout's bundle.
fn built_module(service: &str, version: &str, several_versions: bool) -> syn::ItemMod {
    let entries = bundle::read(bundle::OFFICIAL).unwrap();
    let entry = entries
        .iter()
        .find(|e| e.service == service && e.version == version)
        .unwrap();
    let entry = tencentcloud_model::official::parse_entry(&entry.inflate().unwrap()).unwrap();
    let model = codegen::official_model(&entry).unwrap();
    let text = codegen::generate_module(
        &model,
        version,
        codegen::Layout { several_versions },
        "// built\n",
    )
    .unwrap();
    let file = syn::parse_file(&text).unwrap();
    match file.items.as_slice() {
        [syn::Item::Mod(module)] => module.clone(),
        other => panic!("one module expected, found {} items", other.len()),
    }
}

/// Asserts that `module` holds exactly the items of the files under `dir`
/// (`mod.rs` at its root, each other file as the inline module of its name).
fn assert_same_items(module: &syn::ItemMod, dir: &Path) {
    let (_, items) = module.content.as_ref().expect("inline");
    let read = |name: &str| syn::parse_file(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
    let root = read("mod.rs");
    let inner = |attrs: &[syn::Attribute]| -> Vec<String> {
        attrs
            .iter()
            .filter(|a| matches!(a.style, syn::AttrStyle::Inner(_)))
            .map(tokens)
            .collect()
    };
    assert_eq!(
        inner(&module.attrs),
        inner(&root.attrs),
        "mod.rs's inner attributes"
    );
    assert_eq!(items.len(), root.items.len());
    let mut files = 1;
    for (built, written) in items.iter().zip(&root.items) {
        match (built, written) {
            (syn::Item::Mod(built), syn::Item::Mod(written)) if written.content.is_none() => {
                assert_eq!(built.ident, written.ident);
                let file = read(&format!("{}.rs", written.ident));
                files += 1;
                assert_eq!(
                    inner(&built.attrs),
                    inner(&file.attrs),
                    "{}.rs's inner attributes",
                    written.ident
                );
                let (_, built_items) = built.content.as_ref().expect("inline");
                assert_eq!(built_items.len(), file.items.len(), "{}.rs", written.ident);
                for (b, w) in built_items.iter().zip(&file.items) {
                    assert_eq!(printed(b), printed(w), "an item of {}.rs", written.ident);
                }
            }
            (built, written) => assert_eq!(printed(built), printed(written), "an item of mod.rs"),
        }
    }
    let on_disk = std::fs::read_dir(dir).unwrap().count();
    assert_eq!(files, on_disk, "every file of {} is in the module", dir.display());
}

#[test]
fn import_reads_the_bundle_and_writes_what_the_build_generates() {
    let root = scratch_root("bundle");
    let opts = ServiceOptions {
        from: None,
        services: vec!["tsw".into(), "ba".into()],
        version: None,
        errorcodes: None,
    };
    let lines = import_services(&root, &opts).unwrap();
    assert_eq!(lines.len(), 3, "tsw's two versions and ba's one: {lines:?}");
    for (service, version) in [("ba", "v20200720"), ("tsw", "v20200924"), ("tsw", "v20210412")] {
        let spec = root.join("spec").join(service).join(version);
        for file in ["api.json", "errors.json", "rules.json"] {
            assert!(spec.join(file).is_file(), "{}/{file}", spec.display());
        }
    }
    let errors = std::fs::read_to_string(root.join("spec/ba/v20200720/errors.json")).unwrap();
    assert!(errors.contains("\"codes\""), "{errors}");
    // The code import's regen writes, as files, against the build's module.
    for (service, version, several) in [("ba", "v20200720", false), ("tsw", "v20210412", true)] {
        let model = codegen::load_dir(&root.join("spec").join(service).join(version)).unwrap();
        let out = root.join("generated").join(service).join(version);
        std::fs::create_dir_all(&out).unwrap();
        let layout = codegen::Layout {
            several_versions: several,
        };
        for file in codegen::generate_with(&model, "spec", layout).unwrap() {
            std::fs::write(out.join(file.name), file.contents).unwrap();
        }
        assert_same_items(&built_module(service, version, several), &out);
    }
    let lib = std::fs::read_to_string(root.join("services/tsw-api/src/lib.rs")).unwrap();
    assert!(
        lib.contains("pub mod v20200924;") && lib.contains("pub mod v20210412;"),
        "{lib}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_unknown_service_is_named_with_a_suggestion() {
    let root = scratch_root("unknown");
    let opts = ServiceOptions {
        from: None,
        services: vec!["tkee".into()],
        version: None,
        errorcodes: None,
    };
    let err = import_services(&root, &opts).unwrap_err();
    assert!(
        err.contains("no service `tkee`") && err.contains("`tke`"),
        "{err}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

/// Re-importing the committed services from the bundle changes nothing:
/// the bundle holds what they were imported from, and our rules, waiters
/// and English words survive; their `lib.rs` is the one import writes.
#[test]
fn reimporting_the_committed_services_from_the_bundle_changes_nothing() {
    let checkout = xtask::regen::workspace_root().unwrap();
    let root = scratch_root("reimport");
    let services = ["cbs", "clb", "sts", "tag", "vpc"];
    for service in services {
        copy_tree(
            &checkout.join("spec").join(service),
            &root.join("spec").join(service),
        );
    }
    let opts = ServiceOptions {
        from: None,
        services: services.map(String::from).to_vec(),
        version: None,
        errorcodes: None,
    };
    import_services(&root, &opts).unwrap();
    for service in services {
        for entry in std::fs::read_dir(checkout.join("spec").join(service)).unwrap() {
            let version = entry.unwrap().file_name();
            for file in ["api.json", "errors.json", "rules.json"] {
                let relative = Path::new("spec").join(service).join(&version).join(file);
                let before = std::fs::read_to_string(checkout.join(&relative)).unwrap();
                let after = std::fs::read_to_string(root.join(&relative)).unwrap();
                assert!(before == after, "{} changed on re-import", relative.display());
            }
        }
        // The committed `lib.rs` is the one import writes (`pub use generated::*;`).
        let lib = Path::new("services").join(format!("{service}-api/src/lib.rs"));
        let committed = std::fs::read_to_string(checkout.join(&lib)).unwrap();
        let written = std::fs::read_to_string(root.join(&lib)).unwrap();
        assert!(
            committed == written,
            "import writes another {}:\n{written}",
            lib.display()
        );
    }
    std::fs::remove_dir_all(&root).unwrap();
}
