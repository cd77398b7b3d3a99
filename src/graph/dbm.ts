/**
 * DBM (Ma et al., TIP 2018), configuration V: VGG16 conv1_1..conv5_3 (3×3,
 * ReLU), max-pools after conv1_2, conv2_2, conv3_3 and conv4_3 (no pool5, no
 * FC), a 1×1 conv 512→1, bilinear upsampling back to the input size, sigmoid.
 * Tensor names match tools/models.py's DBM taps.
 */
import { convAttrs } from "../kernels/conv2d.js";
import { GraphBuilder, type Graph } from "./ir.js";
import type { TilingRule } from "./tiling.js";

export interface DbmArchitecture {
  /** Channel multiplier on VGG16's 64..512 (1 for the real network; fixtures use less). */
  readonly width: number;
}

export const DBM_FILE = "dbm";

/**
 * Where DBM tiles (graph/tiling.ts): at the 1×1 score, before the upsampling.
 * A score cell covers 16×16 pixels (four 2×2 pools) and, through thirteen 3×3
 * convs, sees 90 more on each side: VGG16 conv5_3's 196-pixel receptive field.
 */
export const DBM_TILING: TilingRule = { cut: "score", cell: 16, align: 16, before: 90, after: 90 };

const VGG16: readonly (readonly [string, number] | "pool")[] = [
  ["conv1_1", 64], ["conv1_2", 64], "pool",
  ["conv2_1", 128], ["conv2_2", 128], "pool",
  ["conv3_1", 256], ["conv3_2", 256], ["conv3_3", 256], "pool",
  ["conv4_1", 512], ["conv4_2", 512], ["conv4_3", 512], "pool",
  ["conv5_1", 512], ["conv5_2", 512], ["conv5_3", 512],
];

export function buildDbm(height: number, width: number, arch: DbmArchitecture): Graph {
  const g = new GraphBuilder();
  let x = g.input("input", [1, height, width, 3]);
  let channels = 3;
  let pools = 0;
  for (const layer of VGG16) {
    if (layer === "pool") {
      x = g.add("maxpool2d", `pool${++pools}`, [x], { size: 2 });
      continue;
    }
    const [name, base] = layer;
    const out = Math.max(1, Math.round(base * arch.width));
    x = g.add("conv2d", name, [x], convAttrs(out, 3, { pad: [1, 1], activation: "relu" }), {
      file: DBM_FILE,
      prefix: `features.${name}.conv`,
      weightShape: [out, channels, 3, 3],
    });
    channels = out;
  }
  x = g.add("conv2d", "score", [x], convAttrs(1, 1), { file: DBM_FILE, prefix: "score", weightShape: [1, channels, 1, 1] });
  x = g.add("resize_bilinear", "upsample", [x], { height, width });
  return g.build(g.add("sigmoid", "output", [x]));
}
