//! The cached generation steps of each network (see `fast.rs`): host
//! copies of the weights, and per image the feature maps later pixels read.

use super::fast::{HostConv, Stepper, Weights, relu, sigmoid};
use super::{OutputHead, PixelNet};
use crate::Result;

/// Map geometry: height, width.
#[derive(Clone, Copy)]
pub(super) struct Geom {
    h: usize,
    w: usize,
}

pub(super) struct Head {
    hidden: HostConv,
    logits: HostConv,
}

impl Head {
    pub(super) fn new(head: &OutputHead) -> Result<Self> {
        Ok(Head {
            hidden: HostConv::new(&head.hidden, None)?,
            logits: HostConv::new(&head.logits, None)?,
        })
    }

    /// ReLU → 1×1 → ReLU → 1×1 on one feature vector.
    pub(super) fn apply(&self, features: &[f32], hid: &mut Vec<f32>, out: &mut Vec<f32>) {
        let mut a = features.to_vec();
        relu(&mut a);
        hid.resize(self.hidden.out_ch(), 0.0);
        self.hidden.point(&a, hid);
        relu(hid);
        out.resize(self.logits.out_ch(), 0.0);
        self.logits.point(hid, out);
    }
}

pub(super) struct CnnWeights {
    g: Geom,
    input: HostConv,
    blocks: Vec<[HostConv; 3]>,
    head: Head,
}

pub(super) struct GatedHost {
    vconv: HostConv,
    hconv: HostConv,
    link: HostConv,
    hout: HostConv,
    cond: Option<Vec<f32>>,
    residual: bool,
}

pub(super) struct GatedWeights {
    g: Geom,
    layers: Vec<GatedHost>,
    head: Head,
}

pub(super) struct LstmWeights {
    g: Geom,
    input: HostConv,
    layers: Vec<[HostConv; 2]>,
    head: Head,
}

fn read(t: burn::tensor::Tensor<2>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| crate::Error::invalid(format!("weight read-back failed: {e:?}")))
}

/// Host copies of `net`'s weights for `height × width` images.
pub(super) fn weights(net: &PixelNet, height: usize, width: usize) -> Result<Weights> {
    let g = Geom {
        h: height,
        w: width,
    };
    let conv = |c| HostConv::new(c, None);
    Ok(match net {
        PixelNet::PixelCnn(m) => Weights::Cnn(CnnWeights {
            g,
            input: conv(&m.input)?,
            blocks: m
                .blocks
                .iter()
                .map(|b| Ok([conv(&b.reduce)?, conv(&b.conv)?, conv(&b.expand)?]))
                .collect::<Result<_>>()?,
            head: Head::new(&m.head)?,
        }),
        PixelNet::Gated(m) => Weights::Gated(GatedWeights {
            g,
            layers: m.layers.iter().map(gated_layer).collect::<Result<_>>()?,
            head: Head::new(&m.head)?,
        }),
        PixelNet::RowLstm(m) => Weights::Lstm(LstmWeights {
            g,
            input: conv(&m.input)?,
            layers: m
                .layers
                .iter()
                // The state-to-state kernel reads the row above: one row of padding on top.
                .map(|l| {
                    Ok([
                        conv(&l.input_to_state)?,
                        HostConv::new(&l.state_to_state, Some(1))?,
                    ])
                })
                .collect::<Result<_>>()?,
            head: Head::new(&m.head)?,
        }),
        PixelNet::DiagonalBiLstm(m) => {
            Weights::Diagonal(super::fast_diagonal::weights(m, height, width)?)
        }
    })
}

fn gated_layer(l: &super::gated::GatedLayer) -> Result<GatedHost> {
    Ok(GatedHost {
        vconv: HostConv::new(&l.vconv, None)?,
        hconv: HostConv::new(&l.hconv, None)?,
        link: HostConv::new(&l.link, None)?,
        hout: HostConv::new(&l.hout, None)?,
        cond: l.cond.as_ref().map(|c| read(c.val())).transpose()?,
        residual: l.residual,
    })
}

fn map(g: Geom, ch: usize) -> Vec<f32> {
    vec![0.0; g.h * g.w * ch]
}

/// PixelCNN: caches relu(reduce(relu(stream))) of every block, the input of
/// its k×k convolution.
pub(super) struct CnnStepper<'a> {
    w: &'a CnnWeights,
    maps: Vec<Vec<f32>>,
    hid: Vec<f32>,
    out: Vec<f32>,
}

impl<'a> CnnStepper<'a> {
    pub fn new(w: &'a CnnWeights) -> Self {
        let maps = w.blocks.iter().map(|b| map(w.g, b[0].out_ch())).collect();
        CnnStepper {
            w,
            maps,
            hid: vec![],
            out: vec![],
        }
    }
}

impl Stepper for CnnStepper<'_> {
    fn logits(&mut self, x: &[f32], i: usize, j: usize) -> &[f32] {
        let Geom { h, w } = self.w.g;
        let mut s = vec![0.0; self.w.input.out_ch()];
        self.w.input.at(x, h, w, i, j, &mut s);
        for ([reduce, conv, expand], m) in self.w.blocks.iter().zip(&mut self.maps) {
            let (mut a, ch) = (s.clone(), reduce.out_ch());
            relu(&mut a);
            let t = &mut m[(i * w + j) * ch..][..ch];
            reduce.point(&a, t);
            relu(t);
            let mut u = vec![0.0; conv.out_ch()];
            conv.at(m, h, w, i, j, &mut u);
            relu(&mut u);
            let mut e = vec![0.0; expand.out_ch()];
            expand.point(&u, &mut e);
            s.iter_mut().zip(&e).for_each(|(a, b)| *a += b);
        }
        self.w.head.apply(&s, &mut self.hid, &mut self.out);
        &self.out
    }
}

fn gate(pre: &[f32]) -> Vec<f32> {
    let h = pre.len() / 2;
    (0..h)
        .map(|o| pre[o].tanh() * sigmoid(pre[h + o]))
        .collect()
}

/// Gated PixelCNN: the vertical stack's pre-activations and outputs per row
/// (computed when the row is complete) and the horizontal stack's outputs.
pub(super) struct GatedStepper<'a> {
    w: &'a GatedWeights,
    label: Option<usize>,
    vpre: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    hmaps: Vec<Vec<f32>>,
    hid: Vec<f32>,
    out: Vec<f32>,
}

impl<'a> GatedStepper<'a> {
    pub fn new(w: &'a GatedWeights, label: Option<u8>) -> Self {
        let ch = |l: &GatedHost| l.hout.out_ch();
        GatedStepper {
            w,
            label: label.map(usize::from),
            vpre: w.layers.iter().map(|l| map(w.g, 2 * ch(l))).collect(),
            v: w.layers.iter().map(|l| map(w.g, ch(l))).collect(),
            hmaps: w.layers.iter().map(|l| map(w.g, ch(l))).collect(),
            hid: vec![],
            out: vec![],
        }
    }

    /// The class bias of layer `l` for the vertical (`part` 0) or horizontal (1) stack.
    fn cond(&self, l: &GatedHost, part: usize, pre: &mut [f32]) {
        if let (Some(c), Some(label)) = (&l.cond, self.label) {
            let n = pre.len();
            let row = &c[label * 2 * n + part * n..][..n];
            pre.iter_mut().zip(row).for_each(|(a, b)| *a += b);
        }
    }
}

impl Stepper for GatedStepper<'_> {
    fn begin_row(&mut self, x: &[f32], i: usize) {
        let Some(r) = i.checked_sub(1) else { return };
        let Geom { h, w } = self.w.g;
        for (l, layer) in self.w.layers.iter().enumerate() {
            let n = layer.vconv.out_ch();
            for j in 0..w {
                let mut pre = vec![0.0; n];
                let src = if l == 0 { x } else { &self.v[l - 1] };
                layer.vconv.at(src, h, w, r, j, &mut pre);
                self.vpre[l][(r * w + j) * n..][..n].copy_from_slice(&pre);
                self.cond(layer, 0, &mut pre);
                self.v[l][(r * w + j) * n / 2..][..n / 2].copy_from_slice(&gate(&pre));
            }
        }
    }

    fn logits(&mut self, x: &[f32], i: usize, j: usize) -> &[f32] {
        let Geom { h, w } = self.w.g;
        let pos = i * w + j;
        for (l, layer) in self.w.layers.iter().enumerate() {
            let n = layer.hconv.out_ch();
            let mut pre = vec![0.0; n];
            let src = if l == 0 { x } else { &self.hmaps[l - 1] };
            layer.hconv.at(src, h, w, i, j, &mut pre);
            let above = match i {
                0 => vec![0.0; n],
                _ => self.vpre[l][((i - 1) * w + j) * n..][..n].to_vec(),
            };
            let mut link = vec![0.0; n];
            layer.link.point(&above, &mut link);
            pre.iter_mut().zip(&link).for_each(|(a, b)| *a += b);
            self.cond(layer, 1, &mut pre);
            let mut hn = vec![0.0; n / 2];
            layer.hout.point(&gate(&pre), &mut hn);
            if layer.residual {
                let prev = &self.hmaps[l - 1][pos * n / 2..][..n / 2];
                hn.iter_mut().zip(prev).for_each(|(a, b)| *a += b);
            }
            self.hmaps[l][pos * n / 2..][..n / 2].copy_from_slice(&hn);
        }
        let last = self.hmaps.len() - 1;
        let ch = self.w.layers[last].hout.out_ch();
        let f = self.hmaps[last][pos * ch..][..ch].to_vec();
        self.w.head.apply(&f, &mut self.hid, &mut self.out);
        &self.out
    }
}

/// Row LSTM: per layer its input map, and the (h, c) state of every
/// position (the next row reads the row above).
pub(super) struct LstmStepper<'a> {
    w: &'a LstmWeights,
    inputs: Vec<Vec<f32>>,
    h: Vec<Vec<f32>>,
    c: Vec<Vec<f32>>,
    hid: Vec<f32>,
    out: Vec<f32>,
}

impl<'a> LstmStepper<'a> {
    pub fn new(w: &'a LstmWeights) -> Self {
        let ch = w.input.out_ch();
        let maps = || w.layers.iter().map(|_| map(w.g, ch)).collect::<Vec<_>>();
        LstmStepper {
            w,
            inputs: maps(),
            h: maps(),
            c: maps(),
            hid: vec![],
            out: vec![],
        }
    }
}

impl Stepper for LstmStepper<'_> {
    fn logits(&mut self, x: &[f32], i: usize, j: usize) -> &[f32] {
        let Geom { h, w } = self.w.g;
        let (pos, ch) = (i * w + j, self.w.input.out_ch());
        let mut s = vec![0.0; ch];
        self.w.input.at(x, h, w, i, j, &mut s);
        for (l, [is, ss]) in self.w.layers.iter().enumerate() {
            self.inputs[l][pos * ch..][..ch].copy_from_slice(&s);
            let (mut pre, mut rec) = (vec![0.0; 4 * ch], vec![0.0; 4 * ch]);
            is.at(&self.inputs[l], h, w, i, j, &mut pre);
            ss.at(&self.h[l], h, w, i, j, &mut rec);
            for o in 0..ch {
                let p = |k: usize| pre[k * ch + o] + rec[k * ch + o];
                let c_prev = if i > 0 {
                    self.c[l][((i - 1) * w + j) * ch + o]
                } else {
                    0.0
                };
                let c = sigmoid(p(1)) * c_prev + sigmoid(p(0)) * p(3).tanh();
                let hv = sigmoid(p(2)) * c.tanh();
                self.c[l][pos * ch + o] = c;
                self.h[l][pos * ch + o] = hv;
                s[o] += hv;
            }
        }
        self.w.head.apply(&s, &mut self.hid, &mut self.out);
        &self.out
    }
}
