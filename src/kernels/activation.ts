/** Activations fused into conv passes, as GLSL and as their CPU twin. */
export type Activation = "none" | "relu" | "leaky_relu" | "sigmoid";

export const LEAKY_SLOPE = 0.2; // pix2pix's LeakyReLU slope, the only one our networks use

export function activate(x: number, act: Activation): number {
  switch (act) {
    case "none":
      return x;
    case "relu":
      return x > 0 ? x : 0;
    case "leaky_relu":
      return x > 0 ? x : LEAKY_SLOPE * x;
    case "sigmoid":
      return 1 / (1 + Math.exp(-x));
  }
}

export function activationGlsl(act: Activation): string {
  const expr = {
    none: "v",
    relu: "max(v, 0.0)",
    leaky_relu: `max(v, ${LEAKY_SLOPE.toFixed(4)} * v)`,
    // exp(-|v|) is in (0, 1]: no overflow for large |v| on either side.
    sigmoid: "mix(e / (1.0 + e), 1.0 / (1.0 + e), step(0.0, v))",
  }[act];
  const setup = act === "sigmoid" ? "vec4 e = exp(-abs(v)); " : "";
  return `vec4 activate(vec4 v) { ${setup}return ${expr}; }`;
}
