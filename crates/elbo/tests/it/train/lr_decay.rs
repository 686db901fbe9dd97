//! Burda et al.'s learning-rate decay (2016, section 5), which the
//! published-number benchmark compresses into its wall-time budget.

use elbo::train::TrainConfig;

fn with_decay(lr_decay_epochs: usize) -> TrainConfig {
    TrainConfig {
        lr_decay_epochs,
        ..TrainConfig::default()
    }
}

/// lr·10^(−i/7) with the default lr of 1e-3.
fn stage(i: f64) -> f64 {
    1e-3 * 10f64.powf(-i / 7.0)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// Stages last 1, 3, 9, … passes: at 3,280 epochs the paper's own schedule.
#[test]
fn lr_decay_follows_burdas_stages_at_full_length() {
    let full = with_decay(3280);
    for (epoch, i) in [
        (1, 0.),
        (2, 1.),
        (4, 1.),
        (5, 2.),
        (13, 2.),
        (14, 3.),
        (1093, 6.),
    ] {
        assert!(close(full.lr_at(epoch), stage(i)), "epoch {epoch}");
    }
    assert!(close(full.lr_at(1094), 1e-4));
    assert!(close(full.lr_at(9999), 1e-4), "the last rate stays");
}

/// Compressed to half the epochs, every stage boundary halves too.
#[test]
fn lr_decay_at_half_length_halves_every_stage() {
    let half = with_decay(1640);
    assert!(close(half.lr_at(546), stage(6.0)));
    assert!(close(half.lr_at(548), 1e-4));
}

#[test]
fn lr_without_decay_is_constant() {
    let off = with_decay(0);
    assert!([1, 2, 500, 5000].iter().all(|&e| close(off.lr_at(e), 1e-3)));
}

/// Held for H epochs, the rate then follows the compressed stages from H + 1.
#[test]
fn lr_hold_delays_the_decay() {
    let held = TrainConfig {
        lr_hold_epochs: 100,
        ..with_decay(3280)
    };
    assert!(close(held.lr_at(1), 1e-3));
    assert!(close(held.lr_at(100), 1e-3));
    assert!(close(held.lr_at(101), stage(0.0)), "first decay epoch");
    assert!(close(held.lr_at(102), stage(1.0)));
    assert!(close(held.lr_at(100 + 1093), stage(6.0)));
    assert!(close(held.lr_at(100 + 1094), 1e-4));
}

#[test]
fn lr_hold_without_a_decay_is_rejected() {
    let bad = TrainConfig {
        lr_hold_epochs: 10,
        ..TrainConfig::default()
    };
    let msg = bad.validate().expect_err("hold needs a decay").to_string();
    assert!(msg.contains("--lr-decay-epochs"), "{msg}");
}
