//! Every public item of generated code says something: parsed with `syn`,
//! each struct, enum, variant, field, function, constant, trait, macro, type
//! alias and module of the golden files and of checked-in generated crates
//! (CVM, curated; VPC, imported facts-only) has a doc line that is more than
//! its own name restated ("Describe vpcs." for `describe_vpcs` is not).

use std::path::{Path, PathBuf};

use syn::{Attribute, Expr, ImplItem, Item, Lit, Meta, Visibility};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The doc lines of `attrs` (`///` and `#[doc = ".."]`).
fn doc_lines(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(lit) => match &lit.lit {
                    Lit::Str(s) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .flat_map(|text| text.lines().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// Lower-case words of `text`, camel case split: `DescribeVpcs` and
/// `describe_vpcs` are both `describe`, `vpcs`.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut word = String::new();
        let mut prev_lower = false;
        for c in chunk.chars() {
            if c.is_ascii_uppercase() && prev_lower && !word.is_empty() {
                out.push(std::mem::take(&mut word).to_ascii_lowercase());
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            word.push(c);
        }
        if !word.is_empty() {
            out.push(word.to_ascii_lowercase());
        }
    }
    out
}

/// Words that add nothing to a name.
const FILLER: &[&str] = &["a", "an", "the", "of", "r", "wire", "object", "name"];

/// Whether `line` says more than `name`: some word of it is neither one of
/// the name's nor filler.
fn says_more(name: &str, line: &str) -> bool {
    let own = words(name);
    words(line)
        .iter()
        .any(|w| !own.contains(w) && !FILLER.contains(&w.as_str()))
}

struct Checker {
    file: String,
    problems: Vec<String>,
    checked: usize,
}

impl Checker {
    fn check(&mut self, kind: &str, name: &str, attrs: &[Attribute]) {
        self.checked += 1;
        let lines = doc_lines(attrs);
        if lines.iter().all(|line| !says_more(name, line)) {
            self.problems
                .push(format!("{}: {kind} `{name}`: {:?}", self.file, lines));
        }
    }

    fn items(&mut self, items: &[Item]) {
        for item in items {
            self.item(item);
        }
    }

    fn item(&mut self, item: &Item) {
        let public = |vis: &Visibility| matches!(vis, Visibility::Public(_));
        match item {
            Item::Struct(s) if public(&s.vis) => {
                let name = s.ident.to_string();
                self.check("struct", &name, &s.attrs);
                for (i, field) in s.fields.iter().enumerate() {
                    if public(&field.vis) {
                        let field_name = field.ident.as_ref().map_or(i.to_string(), ToString::to_string);
                        self.check("field", &format!("{name}::{field_name}"), &field.attrs);
                    }
                }
            }
            Item::Enum(e) if public(&e.vis) => {
                let name = e.ident.to_string();
                self.check("enum", &name, &e.attrs);
                for v in &e.variants {
                    self.check("variant", &format!("{name}::{}", v.ident), &v.attrs);
                }
            }
            Item::Fn(f) if public(&f.vis) => self.check("fn", &f.sig.ident.to_string(), &f.attrs),
            Item::Const(c) if public(&c.vis) => self.check("const", &c.ident.to_string(), &c.attrs),
            Item::Static(s) if public(&s.vis) => self.check("static", &s.ident.to_string(), &s.attrs),
            Item::Type(t) if public(&t.vis) => self.check("type", &t.ident.to_string(), &t.attrs),
            Item::Trait(t) if public(&t.vis) => self.check("trait", &t.ident.to_string(), &t.attrs),
            Item::Macro(m) => {
                if let Some(name) = &m.ident {
                    self.check("macro", &name.to_string(), &m.attrs);
                }
            }
            Item::Mod(m) => {
                // A module in a file of its own carries its docs there
                // (checked as that file's inner docs).
                if let Some((_, items)) = &m.content {
                    if public(&m.vis) {
                        self.check("mod", &m.ident.to_string(), &m.attrs);
                    }
                    self.items(items);
                }
            }
            Item::Impl(i) if i.trait_.is_none() => {
                let ty = match &*i.self_ty {
                    syn::Type::Path(p) => p
                        .path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                for item in &i.items {
                    match item {
                        ImplItem::Fn(f) if public(&f.vis) => {
                            self.check("method", &format!("{ty}::{}", f.sig.ident), &f.attrs)
                        }
                        ImplItem::Const(c) if public(&c.vis) => {
                            self.check("const", &format!("{ty}::{}", c.ident), &c.attrs)
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

fn check_dir(dir: &Path, checker: &mut Checker) -> usize {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        checker.file = path
            .strip_prefix(workspace())
            .unwrap_or(path)
            .display()
            .to_string();
        let module = path.file_stem().unwrap().to_string_lossy().into_owned();
        checker.check("module", &module, &file.attrs);
        checker.items(&file.items);
    }
    files.len()
}

#[test]
fn every_public_generated_item_says_more_than_its_name() {
    let root = workspace();
    let mut dirs: Vec<PathBuf> = ["minimal", "shapes", "fleet", "paging"]
        .iter()
        .map(|name| root.join("codegen/tests/golden").join(name))
        .collect();
    dirs.push(root.join("cvm-api/src/generated"));
    dirs.push(root.join("services/vpc-api/src/generated"));
    let mut checker = Checker {
        file: String::new(),
        problems: Vec::new(),
        checked: 0,
    };
    for dir in &dirs {
        assert_eq!(check_dir(dir, &mut checker), 5, "{}", dir.display());
    }
    assert!(checker.checked > 20_000, "only {} items checked", checker.checked);
    assert!(
        checker.problems.is_empty(),
        "{} of {} public items say no more than their name:\n{}",
        checker.problems.len(),
        checker.checked,
        checker
            .problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_name_restated_is_not_a_doc() {
    assert!(!says_more("describe_vpcs", "Describe vpcs."));
    assert!(!says_more(
        "DescribeVpcsResponse",
        "Wire object `DescribeVpcsResponse`."
    ));
    assert!(!says_more("r#type", "Type."));
    assert!(says_more("describe_vpcs", "- Read-only: it changes nothing."));
    assert!(says_more("Running", "The wire value `RUNNING`."));
}
