/**
 * Transposed 2-D convolution (PyTorch ConvTranspose2d, weight [in, out, kh, kw]),
 * computed as a gather so that each output texel is one fragment. The GPU pass
 * and weight packing are conv2d's, with the input coordinate rule flipped.
 */
import { convBlocking, convGather, convPassSource, convRowPassSource, convUniforms, packConvWeights, type ConvAttrs, type WeightAccessor } from "./conv2d.js";
import { REFERENCE, type Kernel, type Param } from "./kernel.js";

function accessor(weight: Param, cout: number, kernel: readonly [number, number]): WeightAccessor {
  const w = weight.data;
  const [kh, kw] = kernel;
  return (o, i, ky, kx) => w[((i * cout + o) * kh + ky) * kw + kx];
}

export const convTranspose2d: Kernel<ConvAttrs> = {
  op: "conv_transpose2d",
  outputShape([x], a) {
    const size = (n: number, i: 0 | 1) => (n - 1) * a.stride[i] - 2 * a.pad[i] + a.dilation[i] * (a.kernel[i] - 1) + 1;
    return [x[0], size(x[1], 0), size(x[2], 1), a.outChannels];
  },
  cpu([x], a, p, options = REFERENCE) {
    const at = accessor(p.weight, a.outChannels, a.kernel);
    return convGather(x, convTranspose2d.outputShape([x.shape], a), p.weight, at, p.bias, a, "transposed", options.conv);
  },
  gpu: {
    // A blocked pass unrolls the taps of one phase (convRowPassSource): the kernel width and stride are compiled in.
    variant: (a) => `${a.activation}/${a.kernel[1]}:${a.stride[1]}`,
    source: (a, _, pixels) => (pixels > 1 ? convRowPassSource(a, pixels, true) : convPassSource(a.activation, true)),
    // Pixels a stride apart share their taps; with dilation they need not.
    blocking: (a, [x], [, , ow]) => (a.dilation[1] === 1 ? convBlocking(x, ow, a.stride[1]) : null),
    uniforms: (a) => convUniforms(a),
    pack: (p, a, [x]) => packConvWeights(accessor(p.weight, a.outChannels, a.kernel), a.outChannels, x[3], a.kernel, p.bias),
  },
};
