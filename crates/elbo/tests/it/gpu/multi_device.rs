//! Data parallelism over two devices in one process
//! (`elbo::train::multi_device`): the per-device gradients, summed by
//! burn's `MultiGradientsParams`, equal one device's batch gradient.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, MultiGradientsParams};
use burn::tensor::{Device, DeviceKind, Tensor};
use elbo::families::pixel::pixel_config;
use elbo::train::Batch;
use elbo::train::Trainable;
use elbo::train::multi_device::shard_gradients;

use super::{assert_close, config, gpu, max_abs, models};

/// Each parameter's gradient: (one device's, the devices' sum), flattened.
struct Pairs<'a> {
    single: &'a GradientsParams,
    multi: &'a mut MultiGradientsParams,
    out: Vec<(Vec<f32>, Vec<f32>)>,
}

impl ModuleVisitor for Pairs<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let single = self.single.get::<D>(param.id).map(flat);
        let multi = self.multi.remove::<D>(param.id).map(|(g, _)| flat(g));
        self.out
            .push((single.unwrap_or_default(), multi.unwrap_or_default()));
    }
}

fn flat<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    match t.into_data().convert::<f32>().try_into_vec::<f32>() {
        Ok(v) => v,
        Err(e) => panic!("read-back: {e:?}"),
    }
}

/// The PixelCNN's mean-NLL gradient on 32 rows, on the CPU alone and split
/// in halves over `devices`: the halves' sum is twice the batch's.
fn check_two_devices(devices: &[Device; 2]) {
    let (_, model) = models().swap_remove(2);
    let mut config = config(model, 1, 32);
    let splits = config.data.load().expect("digits");
    config.resolve(&splits).expect("resolves");
    let (kind, c) = pixel_config(&config).expect("a pixel model");
    let cpu = elbo::device::cpu_device();
    let net = c.init(kind, &cpu.clone().autodiff(), 3).expect("builds");
    let (rows, width) = net
        .input_rows(&config.data, &splits.train, 3)
        .expect("rows");
    let batch = Batch {
        rows: rows[..32 * width].to_vec(),
        width,
        set: &splits.train,
        labels: None,
        epoch: 1,
        step: 0,
        beta: 1.0,
    };
    let Ok((single, (nll, _))) = net.gradients(&batch, &config.train) else {
        panic!("one device's step")
    };
    let Ok((mut multi, (nll_multi, _))) = shard_gradients(&net, &batch, &config.train, devices)
    else {
        panic!("the two devices' step")
    };
    assert!(
        (nll - nll_multi).abs() < 1e-4 * nll.abs(),
        "{nll} vs {nll_multi}"
    );
    let mut pairs = Pairs {
        single: &single,
        multi: &mut multi,
        out: Vec::new(),
    };
    net.visit(&mut pairs);
    for (i, (one, sum)) in pairs.out.iter().enumerate() {
        assert!(
            !one.is_empty() && !sum.is_empty(),
            "parameter {i} has gradients"
        );
        let twice: Vec<f32> = one.iter().map(|g| 2.0 * g).collect();
        assert_close(
            &format!("parameter {i}"),
            sum,
            &twice,
            1e-3 * max_abs(&twice),
        );
    }
}

#[test]
fn gradients_summed_over_the_cpu_and_the_gpu_equal_the_batch_gradient() {
    let Some(gpu) = gpu() else { return };
    check_two_devices(&[elbo::device::cpu_device(), gpu]);
}

/// Two wgpu devices in one process: the first adapter, and wgpu's CPU
/// adapter selected explicitly, a runtime of its own (on lavapipe, the same
/// driver twice).
#[test]
fn gradients_summed_over_two_gpu_devices_equal_the_batch_gradient() {
    let Some(gpu) = gpu() else { return };
    let second = Device::wgpu(DeviceKind::Cpu);
    if second == gpu {
        // The first adapter is already wgpu's CPU adapter (seen on a
        // machine whose only Vulkan driver is lavapipe, 2026-12-02, with
        // XDG_RUNTIME_DIR set): there is no second device to pair it with.
        eprintln!("note: the GPU device is wgpu's CPU adapter; no second device to test");
        return;
    }
    check_two_devices(&[gpu, second]);
}
