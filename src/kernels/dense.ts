/**
 * Fully connected layer (PyTorch Linear after flatten, weight [out, c·h·w] in
 * C, H, W order). On both paths it is a convolution whose kernel covers the
 * whole input, so it runs conv2d's pass with the weights re-indexed.
 */
import { activate, type Activation } from "./activation.js";
import { convAttrs, convPassSource, convUniforms, packConvWeights, type WeightAccessor } from "./conv2d.js";
import { tensor, type Kernel, type Param } from "./kernel.js";

export interface DenseAttrs {
  readonly outFeatures: number;
  readonly activation: Activation;
}

function asConv(weight: Param, h: number, w: number, c: number): WeightAccessor {
  const inFeatures = c * h * w;
  return (o, i, ky, kx) => weight.data[o * inFeatures + (i * h + ky) * w + kx];
}

export const dense: Kernel<DenseAttrs> = {
  op: "dense",
  outputShape: ([x], a) => [x[0], 1, 1, a.outFeatures],
  cpu([x], a, p) {
    const [n, h, w, c] = x.shape;
    const out = tensor([n, 1, 1, a.outFeatures]);
    const at = asConv(p.weight, h, w, c);
    for (let b = 0; b < n; b++)
      for (let o = 0; o < a.outFeatures; o++) {
        let acc = p.bias ? p.bias.data[o] : 0;
        for (let y = 0; y < h; y++)
          for (let xx = 0; xx < w; xx++)
            for (let i = 0; i < c; i++) acc += at(o, i, y, xx) * x.data[((b * h + y) * w + xx) * c + i];
        out.data[b * a.outFeatures + o] = activate(acc, a.activation);
      }
    return out;
  },
  gpu: {
    variant: (a) => a.activation,
    source: (a) => convPassSource(a.activation, false),
    uniforms: (a, [x]) => convUniforms({ ...convAttrs(a.outFeatures, 1, { activation: a.activation }), kernel: [x[1], x[2]] }),
    pack: (p, a, [x]) => packConvWeights(asConv(p.weight, x[1], x[2], x[3]), a.outFeatures, x[3], [x[1], x[2]], p.bias),
  },
};
