//! The library's top-level modules form layers (see `docs/architecture.md`
//! and `lib.rs`): a module names only modules of its own layer or below,
//! and no two modules name each other, directly or through others. Checked
//! on the source text: every `crate::module` path outside comments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first.
const LAYERS: &[&[&str]] = &[
    &["error", "fsutil", "device", "seeds", "progress", "memory"],
    &["kernels"],
    &["folder"],
    &["data", "image"],
    &["models", "mixture"],
    &["eval"],
    &["train"],
    &["families"],
    &["run"],
    &["export", "interop", "plot", "report", "serve"],
];

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("top-level module `{module}` is in no layer: add it to LAYERS and docs/architecture.md"))
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The modules named as `crate::name` in `text`, comments left out.
fn named(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let rest = rest.strip_prefix('{').unwrap_or(rest);
            for part in rest.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if modules.contains(&name) {
                    found.insert(name);
                }
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules: BTreeSet<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|m| m != "lib")
        .collect();
    let mut deps = BTreeMap::new();
    for m in &modules {
        let mut files = Vec::new();
        rust_files(&src.join(m), &mut files);
        rust_files(&src.join(format!("{m}.rs")), &mut files);
        let mut names = BTreeSet::new();
        for f in files {
            names.extend(named(&std::fs::read_to_string(f).unwrap(), &modules));
        }
        names.remove(m);
        deps.insert(m.clone(), names);
    }
    deps
}

#[test]
fn no_module_names_a_module_of_a_higher_layer() {
    let mut wrong = Vec::new();
    for (m, names) in graph() {
        for n in names {
            if layer(&n) > layer(&m) {
                wrong.push(format!("{m} -> {n}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports upward: {wrong:?}");
}

#[test]
fn top_level_modules_have_no_import_cycles() {
    let deps = graph();
    // Depth-first search; a module seen again on the current path is a cycle.
    fn visit<'a>(
        m: &'a str,
        deps: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(start) = path.iter().position(|p| *p == m) {
            panic!("import cycle: {:?} -> {m}", &path[start..]);
        }
        if !done.insert(m) {
            return;
        }
        path.push(m);
        for n in &deps[m] {
            visit(n, deps, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for m in deps.keys() {
        visit(m, &deps, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_layer_check_sees_an_upward_import() {
    let modules: BTreeSet<String> = ["run", "folder"].iter().map(|s| s.to_string()).collect();
    let text =
        "use crate::run::Run;\n// crate::folder in a comment\nuse crate::{Error, folder::RunDir};";
    let found = named(text, &modules);
    assert_eq!(found, modules, "both code paths are found");
    assert!(named("// only crate::run here", &modules).is_empty());
}
