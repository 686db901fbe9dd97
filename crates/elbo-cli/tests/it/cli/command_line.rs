//! One consistent command line: how runs are named, the defaults every
//! command shares, the flags each `--help` lists, bare `elbo train`,
//! completions and the manual page.

use crate::common::*;

/// `elbo ARGS --help` as text, after checking it succeeded.
fn help(args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("--help");
    let out = elbo(&all);
    assert_ok(&out);
    stdout(&out)
}

/// The help line that documents `flag` (followed by a space or a comma).
fn flag_line<'a>(help: &'a str, flag: &str) -> Option<&'a str> {
    help.lines().find(|l| {
        let t = l.trim_start();
        t.starts_with(&format!("{flag} "))
            || t.starts_with(&format!("{flag},"))
            || t == flag
            || t.contains(&format!(", {flag} "))
    })
}

/// The help text of `flag` in `help`: its line and the indented lines after it.
fn flag_text(help: &str, flag: &str) -> String {
    let first = flag_line(help, flag).unwrap_or_else(|| panic!("no {flag} in\n{help}"));
    let mut lines = help.lines().skip_while(|l| *l != first);
    let mut text = lines.next().unwrap_or_default().to_string();
    for l in lines {
        if l.trim_start().starts_with('-') || l.trim().is_empty() {
            break;
        }
        text.push(' ');
        text.push_str(l.trim());
    }
    text
}

#[test]
fn every_train_family_defaults_its_out_folder_to_its_name() {
    for family in [
        "vae",
        "ae",
        "gmm",
        "bernoulli-mixture",
        "pixelcnn",
        "gated-pixelcnn",
        "pixelrnn",
        "nade",
    ] {
        let h = help(&["train", family]);
        let out = flag_text(&h, "--out");
        assert!(
            out.contains(&format!("[default: runs/{family}]")),
            "train {family}: {out}"
        );
        let data = flag_text(&h, "--data");
        assert!(data.contains("default: digits"), "train {family}: {data}");
    }
}

#[test]
fn every_seed_defaults_to_the_same_value() {
    let commands: [&[&str]; 9] = [
        &["train", "vae"],
        &["train", "gmm"],
        &["train", "bernoulli-mixture"],
        &["train", "nade"],
        &["sample"],
        &["eval"],
        &["complete"],
        &["report"],
        &["select", "gmm"],
    ];
    for cmd in commands {
        let seed = flag_text(&help(cmd), "--seed");
        assert!(seed.contains("default: 1]"), "{cmd:?}: {seed}");
    }
}

#[test]
fn help_lists_only_the_flags_that_apply() {
    let ae = help(&["train", "ae"]);
    let vae = help(&["train", "vae"]);
    for flag in ["--beta", "--warmup-epochs", "--free-bits", "--iwae-samples"] {
        assert!(flag_line(&ae, flag).is_none(), "train ae lists {flag}");
        assert!(flag_line(&vae, flag).is_some(), "train vae lacks {flag}");
    }
    let train = help(&["train"]);
    for flag in ["--epochs", "--quiet", "--no-pictures", "--resume"] {
        assert!(
            flag_line(&train, flag).is_none(),
            "train lists {flag}\n{train}"
        );
    }
    assert!(train.contains("resume"), "{train}");
    let resume = help(&["train", "resume"]);
    assert!(flag_line(&resume, "--epochs").is_some(), "{resume}");
    assert!(flag_line(&help(&["train", "pixelcnn"]), "--classes").is_none());
    assert!(flag_line(&help(&["train", "gated-pixelcnn"]), "--classes").is_some());
    let gmm = help(&["train", "gmm"]);
    for flag in ["--epochs", "--lr", "--quiet", "--log-every"] {
        assert!(flag_line(&gmm, flag).is_none(), "train gmm lists {flag}");
    }
}

#[test]
fn bare_train_names_every_family() {
    let out = elbo(["train"]);
    let err = assert_app_error(&out, &["elbo train resume"]);
    for family in [
        "vae",
        "ae",
        "gmm",
        "bernoulli-mixture",
        "pixelcnn",
        "gated-pixelcnn",
        "pixelrnn",
        "nade",
    ] {
        assert!(err.contains(&format!("`elbo train {family}`")), "{err}");
    }
    let listed = help(&["train"]);
    for family in ["vae", "gmm", "pixelrnn", "nade", "resume"] {
        assert!(listed.contains(&format!("  {family} ")), "{listed}");
    }
}

#[test]
fn select_takes_its_family_as_a_subcommand() {
    let h = help(&["select"]);
    assert!(h.contains("Commands:") && h.contains("gmm"), "{h}");
    let gmm = help(&["select", "gmm"]);
    assert!(flag_line(&gmm, "--components").is_some(), "{gmm}");
    let out = elbo(["select", "bmm"]);
    assert!(!out.status.success());
}

#[test]
fn count_has_a_long_name_and_keeps_n() {
    for cmd in ["sample", "reconstruct", "manifold", "complete"] {
        let h = help(&[cmd]);
        let line = flag_line(&h, "-n").unwrap_or_else(|| panic!("{cmd}: {h}"));
        assert!(line.contains("--count"), "{cmd}: {line}");
    }
    let (tmp, run) = one_epoch_run(&[]);
    for (flag, file) in [("--count", "a.png"), ("-n", "b.png"), ("--n", "c.png")] {
        let png = tmp.path().join(file);
        let args = ["sample", "--model", &path_str(&run), flag, "4"];
        let out = elbo(args.iter().chain(&["--out", &path_str(&png)]));
        assert_ok(&out);
        assert!(
            stdout(&out).contains("wrote 4 samples"),
            "{}",
            describe(&out)
        );
    }
}

#[test]
fn plot_and_export_take_the_run_as_every_command_does() {
    let (tmp, run) = one_epoch_run(&[]);
    let run_s = path_str(&run);
    let charts = tmp.path().join("charts");
    let out = elbo(["plot", "--model", &run_s, "--out", &path_str(&charts)]);
    assert_ok(&out);
    assert!(charts.join("loss.png").is_file(), "{}", describe(&out));
    assert_ok(&elbo(["plot", &run_s, "--out", &path_str(&charts)]));
    let both = elbo(["plot", &run_s, "--model", &run_s]);
    assert!(!both.status.success(), "{}", describe(&both));
    let file = tmp.path().join("vae.safetensors");
    assert_ok(&elbo([
        "export",
        "torch-vae",
        "--model",
        &run_s,
        "--out",
        &path_str(&file),
    ]));
    assert!(file.is_file());
}

#[test]
fn only_a_run_with_a_checkpoint_is_offered_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let gmm = tmp.path().join("gmm");
    assert_ok(&train_small_gmm(&gmm));
    let again = train_small_gmm(&gmm);
    let err = assert_app_error(&again, &["already holds a run", "--force"]);
    assert!(!err.contains("resume"), "{err}");
    let vae = tmp.path().join("vae");
    train_digits(&vae, 1, &[]);
    let again = train_digits_raw(&vae, &["--epochs", "1"]);
    assert_app_error(&again, &["already holds a run", "elbo train resume"]);
}

#[test]
fn train_resume_continues_a_run() {
    let (_tmp, run) = one_epoch_run(&[]);
    let out = elbo([
        "train",
        "resume",
        &path_str(&run),
        "--epochs",
        "2",
        "--no-pictures",
    ]);
    assert_ok(&out);
    assert_eq!(read_metrics(&run.join("metrics.jsonl")).len(), 2);
}

#[test]
fn completions_for_each_shell_and_a_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let out = elbo(["completions", shell]);
        assert_ok(&out);
        let text = stdout(&out);
        assert!(
            text.contains("elbo") && text.contains("gated-pixelcnn") && text.contains("log-every"),
            "{shell}: {}",
            &text[..text.len().min(400)]
        );
    }
    let out = elbo(["completions", "cmd.exe"]);
    assert!(!out.status.success());
    let man = elbo(["man"]);
    assert_ok(&man);
    let text = stdout(&man);
    assert!(
        text.starts_with(".ie") || text.contains(".TH elbo"),
        "{}",
        &text[..200]
    );
    assert!(text.contains("train"), "the man page lists the commands");
}
