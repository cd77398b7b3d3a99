/** Element-wise logistic sigmoid. */
import { activate, activationGlsl } from "./activation.js";
import { tensor, type Kernel } from "./kernel.js";

export const sigmoid: Kernel<Record<string, never>> = {
  op: "sigmoid",
  outputShape: ([x]) => x,
  cpu: ([x]) => tensor(x.shape, x.data.map((v) => activate(v, "sigmoid"))),
  gpu: {
    variant: () => "",
    source: () => `${activationGlsl("sigmoid")}
vec4 run(ivec4 o) { return activate(fetch0(o.x, o.y, o.z, o.w)); }`,
  },
};
